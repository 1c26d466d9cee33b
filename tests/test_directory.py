"""The voluntary-sector service directory: the sample covers every locality and need, a
council's Open Referral UK JSON can be imported, and bad JSON is refused clearly."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from spoa.config import load_config
from spoa.directory import DirectoryError, import_oruk, load_directory, need_codes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "service_directory.sample.json"


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "config.yml")


@pytest.fixture(scope="module")
def directory(config):
    return load_directory(SAMPLE, config)


def services_schema():
    schema = json.loads((ROOT / "spoa" / "schemas" / "decision.schema.json").read_text())
    return schema["properties"]["services"]


# --- the sample directory ---------------------------------------------------------------------

def test_need_codes_are_befriending_prevention_and_every_kind_of_practical_help():
    contract = json.loads((ROOT / "spoa" / "schemas" / "contact.schema.json").read_text())
    practical = contract["properties"]["facts"]["properties"]["practical_help"]["items"]["enum"]
    assert set(need_codes()) == {"befriending", "prevention", "carer_support", *practical}


def test_every_locality_has_a_service_for_every_need(config, directory):
    gaps = [(locality, need) for locality in config.localities for need in need_codes()
            if not directory.match(locality, [need])]
    assert gaps == []


@pytest.mark.hazard("HAZ-016")
def test_the_sample_is_clearly_labelled_as_fictional(directory):
    data = json.loads(SAMPLE.read_text())
    assert data["sample"] is True and "SAMPLE DATA" in data["note"] and "fictional" in data["note"]
    assert directory.note.startswith("SAMPLE DATA")
    for service in directory.services:
        assert service.name.endswith("(sample)") and service.organization.endswith("(sample)")
        assert "example.org" in service.url


@pytest.mark.hazard("HAZ-016")
def test_the_directory_keeps_its_source_for_the_ruleset_fingerprint(directory):
    assert directory.source_bytes == SAMPLE.read_bytes()


def test_the_sample_loads_without_config_too(directory):
    # Its areas are the localities' names, read as ids when no config is given.
    assert load_directory(SAMPLE).services == directory.services


def test_the_committed_sample_is_what_the_script_makes(config):
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_sample_directory", ROOT / "data" / "make_sample_directory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build(dict(config.data)) == json.loads(SAMPLE.read_text())


# --- matching -----------------------------------------------------------------------------------

@pytest.mark.hazard("HAZ-008")
def test_lonely_person_in_dartford_is_offered_befriending_there(directory):
    services = directory.match("dartford_gravesham_swanley", ["befriending"])
    assert services and all(s["locality"] == "dartford_gravesham_swanley" for s in services)
    assert all("befriending" in s["taxonomy"] for s in services)
    assert "Dartford, Gravesham and Swanley Befriending Circle (sample)" in [s["name"] for s in services]
    jsonschema.validate(services, services_schema())


def test_services_meeting_more_needs_come_first_then_by_name(directory):
    services = directory.match("thanet", ["shopping", "gardening", "transport"], limit=10)
    assert services[0]["name"] == "Thanet Good Neighbours (sample)"
    assert services[0]["taxonomy"] == ["shopping", "gardening", "transport"]
    rest = services[1:]
    assert [len(s["taxonomy"]) for s in rest] == sorted((len(s["taxonomy"]) for s in rest), reverse=True)
    singles = [s["name"] for s in rest if len(s["taxonomy"]) == 1]
    assert singles == sorted(singles, key=str.casefold)


def test_matching_is_the_same_every_time(directory):
    first = directory.match("swale", ["meals", "befriending", "benefits_advice"])
    assert all(directory.match("swale", ["meals", "befriending", "benefits_advice"]) == first for _ in range(5))


def test_limit_caps_the_list(directory):
    assert len(directory.match("thanet", list(need_codes()), limit=3)) == 3
    assert len(directory.match("thanet", list(need_codes()), limit=50)) > 5


def test_a_service_covering_several_localities_is_found_in_each(directory):
    for locality in ("ashford", "canterbury_coastal", "thanet", "south_kent_coast"):
        names = [s["name"] for s in directory.match(locality, ["transport"], limit=10)]
        assert "East Kent Community Transport (sample)" in names
    names = [s["name"] for s in directory.match("swale", ["transport"], limit=10)]
    assert "East Kent Community Transport (sample)" not in names


def test_no_locality_or_no_needs_gives_no_services(directory):
    assert directory.match(None, ["befriending"]) == []
    assert directory.match("Leeds", ["befriending"]) == []
    assert directory.match("thanet", []) == []


def test_a_mistyped_need_code_is_an_error_not_an_empty_list(directory):
    with pytest.raises(ValueError, match="befriend'"):
        directory.match("thanet", ["befriend"])


# --- importing a council's Open Referral UK directory -----------------------------------------

COUNCIL_ORUK_PAGE = {
    "totalElements": 6, "totalPages": 1, "number": 1, "size": 50, "first": True, "last": True,
    "content": [
        {"id": "svc-101", "name": "Margate Tea and Chat", "status": "active",
         "description": "A weekly drop-in for older people.",
         "organization": {"id": "org-1", "name": "Isle of Thanet Friendship Trust"},
         "service_taxonomys": [{"id": "st-1", "taxonomy": {"id": "esd-1234", "name": "Befriending services",
                                                           "vocabulary": "esdServiceTypes"}}],
         "service_areas": [{"id": "sa-1", "service_area": "Margate", "extent": None, "uri": None}]},
        {"id": "svc-102", "name": "County Community Cars", "status": "active",
         "organization": {"id": "org-2", "name": "Kent Rural Transport Forum"},
         "service_taxonomys": [{"id": "st-2", "taxonomy": {"id": "esd-77", "name": "Community transport"}},
                               {"id": "st-3", "taxonomy": {"id": "esd-78", "name": "Shopping help"}}],
         "service_areas": [{"id": "sa-2", "service_area": "Kent"}]},
        {"id": "svc-103", "name": "Sittingbourne Money Clinic", "status": "active",
         "organization": {"id": "org-3", "name": "Swale Advice Centre"},
         "service_taxonomys": [{"id": "st-4", "taxonomy": {"id": "esd-90", "name": "Welfare rights and benefits"}}],
         "service_at_locations": [{"id": "sal-1", "location": {
             "id": "loc-1", "name": "High Street Hub",
             "physical_addresses": [{"address_1": "1 High Street", "city": "Sittingbourne", "postal_code": "ME10 0AA"}]}}]},
        {"id": "svc-104", "name": "Closed Lunch Club", "status": "inactive",
         "organization": {"id": "org-4", "name": "Old Club"},
         "service_taxonomys": [{"id": "st-5", "taxonomy": {"id": "esd-5", "name": "Lunch clubs"}}],
         "service_areas": [{"id": "sa-4", "service_area": "Dover"}]},
        {"id": "svc-105", "name": "Youth Football", "status": "active",
         "organization": {"id": "org-5", "name": "Junior League"},
         "service_taxonomys": [{"id": "st-6", "taxonomy": {"id": "esd-6", "name": "Sport for young people"}}],
         "service_areas": [{"id": "sa-5", "service_area": "Ashford"}]},
        {"id": "svc-106", "name": "Leeds Befrienders", "status": "active",
         "organization": {"id": "org-6", "name": "Yorkshire Friends"},
         "service_taxonomys": [{"id": "st-7", "taxonomy": {"id": "esd-1234", "name": "Befriending services"}}],
         "service_areas": [{"id": "sa-6", "service_area": "Leeds"}]},
    ],
}


@pytest.mark.hazard("HAZ-016")
def test_a_council_oruk_page_is_imported(config):
    directory = import_oruk(COUNCIL_ORUK_PAGE, config)
    assert [s.id for s in directory.services] == ["svc-101", "svc-102", "svc-103"]
    assert directory.match("thanet", ["befriending"]) == [{
        "id": "svc-101", "name": "Margate Tea and Chat", "organization": "Isle of Thanet Friendship Trust",
        "taxonomy": ["befriending"], "locality": "thanet"}]


def test_a_county_wide_service_covers_every_locality(config):
    directory = import_oruk(COUNCIL_ORUK_PAGE, config)
    for locality in config.localities:
        match = directory.match(locality, ["transport", "shopping"])
        assert match[0]["id"] == "svc-102" and match[0]["taxonomy"] == ["shopping", "transport"]


def test_a_service_delivered_at_an_address_is_placed_by_its_town(config):
    directory = import_oruk(COUNCIL_ORUK_PAGE, config)
    assert [s["id"] for s in directory.match("swale", ["benefits_advice"])] == ["svc-103"]


def test_unusable_council_services_are_skipped_with_the_reason(config):
    skipped = dict(import_oruk(COUNCIL_ORUK_PAGE, config).skipped)
    assert "inactive" in skipped["service 'svc-104'"]
    assert "no taxonomy term" in skipped["service 'svc-105'"] and "Sport for young people" in skipped["service 'svc-105'"]
    assert "Leeds" in skipped["service 'svc-106'"]


def test_a_councils_own_taxonomy_can_be_mapped(config):
    directory = import_oruk(COUNCIL_ORUK_PAGE, config, taxonomy_map={"esd-6": "prevention"})
    assert [s["id"] for s in directory.match("ashford", ["prevention"])] == ["svc-105"]


def test_hsds3_services_with_attributes_are_imported(config):
    page = {"total_items": 1, "contents": [
        {"id": "h-1", "name": "Deal Digital Drop-in", "organization": {"id": "o", "name": "Deal Library Friends"},
         "attributes": [{"id": "a-1", "link_id": "h-1", "taxonomy_term": {"id": "t-1", "code": "digital_help",
                                                                          "name": "Digital inclusion"}}],
         "service_areas": [{"id": "sa", "name": "Deal"}]}]}
    directory = import_oruk(page, config)
    assert directory.match("south_kent_coast", ["digital_help"])[0]["id"] == "h-1"


def test_hsds_tables_are_joined(config):
    tables = {
        "organizations": [{"id": "o-1", "name": "Herne Bay Gardeners"}],
        "services": [{"id": "s-1", "organization_id": "o-1", "name": "Garden Angels"}],
        "taxonomy": [{"id": "t-9", "name": "Gardening", "vocabulary": "local"}],
        "service_taxonomy": [{"id": "x", "service_id": "s-1", "taxonomy_id": "t-9"}],
        "service_areas": [{"id": "y", "service_id": "s-1", "service_area": "Herne Bay"}],
    }
    assert import_oruk(tables, config).match("canterbury_coastal", ["gardening"]) == [{
        "id": "s-1", "name": "Garden Angels", "organization": "Herne Bay Gardeners",
        "taxonomy": ["gardening"], "locality": "canterbury_coastal"}]


def test_a_single_service_and_json_text_are_accepted(config):
    one = COUNCIL_ORUK_PAGE["content"][0]
    assert import_oruk(one, config).services[0].id == "svc-101"
    assert import_oruk(json.dumps([one]), config).services[0].id == "svc-101"


# --- malformed imports ------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    ("{not json", "not valid JSON"),
    (42, "expected ORUK/HSDS JSON"),
    ({"organisations": []}, "found keys: organisations"),
    ([], "the list of services is empty"),
    ([{"name": "No id here"}], "service #1: no id"),
    ([{"id": "a", "name": "Tea", "service_areas": [{"service_area": "Thanet"}]}], "no taxonomy term"),
    (["just a string"], "not an object"),
])
def test_a_malformed_import_gives_a_clear_error(config, data, message):
    with pytest.raises(DirectoryError, match=message):
        import_oruk(data, config)


def test_a_taxonomy_map_to_an_unknown_need_is_refused(config):
    with pytest.raises(DirectoryError, match="unknown need code"):
        import_oruk(COUNCIL_ORUK_PAGE, config, taxonomy_map={"esd-6": "football"})


def test_a_broken_directory_file_names_the_file(tmp_path):
    path = tmp_path / "directory.json"
    path.write_text('{"services": [')
    with pytest.raises(DirectoryError, match="directory.json: not valid JSON"):
        load_directory(path)
    with pytest.raises(DirectoryError, match="no such file"):
        load_directory(tmp_path / "missing.json")
