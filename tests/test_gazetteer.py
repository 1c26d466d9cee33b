"""The gazetteer: what a person says about where they are -> a locality, outside, ambiguous or nothing.

SCOPE-2 (1.1): only a place recognised as outside can take a contact out of area; anything the
resolver is unsure of is ambiguous or unresolved (the person is served, FAILSAFE-3).
"""
import csv
from collections import defaultdict
from pathlib import Path

import pytest

from engine_helpers import get_triage
from spoa.gazetteer import AMBIGUOUS, INSIDE, OUTSIDE, UNRESOLVED, name_keys

ROOT = Path(__file__).resolve().parent.parent
PLACES_CSV = ROOT / "data" / "places" / "places.csv"
POSTCODES_CSV = ROOT / "data" / "places" / "postcode_districts.csv"


@pytest.fixture(scope="module")
def gazetteer():
    return get_triage().config.gazetteer


def _rows(path):
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _target(row):
    return row["locality"] or "outside:" + row["council"]


def _targets_by_key():
    """Every name's keys -> what the rows say it means, straight from the CSV."""
    by_key = defaultdict(set)
    for row in _rows(PLACES_CSV):
        for name in [row["name"], *filter(None, (n.strip() for n in row["alternative_names"].split(";")))]:
            for key in name_keys(name):
                by_key[key].add(_target(row))
    return by_key


BY_KEY = _targets_by_key()
NAMES = sorted({(name, _target(row)) for row in _rows(PLACES_CSV)
                for name in [row["name"], *filter(None, (n.strip() for n in row["alternative_names"].split(";")))]})


@pytest.mark.hazard("HAZ-004")
@pytest.mark.parametrize("name, target", NAMES)
def test_every_place_in_the_gazetteer_resolves_to_its_locality(gazetteer, name, target):
    """Generated from data/places/places.csv: a name meaning one thing resolves to it; a name
    shared by two localities, or by inside and outside, is ambiguous with this place among the
    candidates; a name shared by two outside councils is outside."""
    result = gazetteer.resolve(name)
    meanings = set().union(*(BY_KEY[key] for key in name_keys(name) if key == _key(name)))
    if len(meanings) == 1:
        assert (result.locality if result.status == INSIDE else f"outside:{result.council or ''}") == target
    elif all(m.startswith("outside:") for m in meanings):
        assert result.status == OUTSIDE and target.removeprefix("outside:") in result.council
    else:
        assert result.status == AMBIGUOUS and target in {c.target for c in result.candidates}


def _key(name):
    from spoa.gazetteer import normalise
    return normalise(name)


POSTCODES = defaultdict(set)
for _row in _rows(POSTCODES_CSV):
    POSTCODES[_row["postcode"]].add(_target(_row))


@pytest.mark.parametrize("code", sorted(code for code in POSTCODES if " " not in code))
def test_every_postcode_district_resolves_to_its_locality_or_is_ambiguous_when_shared(gazetteer, code):
    meanings = POSTCODES[code] | set().union(*(POSTCODES[c] for c in POSTCODES if c.startswith(code + " ")))
    for given in (code, code.lower(), f"{code} 1AA".lower().replace(" ", ""), f"postcode {code} 9ZZ"):
        result = gazetteer.resolve(given)
        if len(meanings) > 1 and not all(m.startswith("outside:") for m in meanings) and "1AA" not in given.upper() and "9ZZ" not in given:
            assert result.status == AMBIGUOUS, given
        elif len(meanings) == 1:
            assert (result.locality or f"outside:{result.council or ''}") == next(iter(meanings)), given


def test_the_shipped_gazetteer_covers_every_configured_locality_and_skips_nothing(gazetteer):
    config = get_triage().config
    assert gazetteer.skipped == ()
    inside = {row["locality"] for row in _rows(PLACES_CSV) if row["locality"]}
    assert inside == set(config.localities)
    assert gazetteer.place_count > 1000 and len({row["postcode"] for row in _rows(POSTCODES_CSV)}) > 140


def test_every_place_named_in_config_resolves_to_its_own_locality(gazetteer):
    for locality_id, entry in get_triage().config.localities.items():
        for place in [entry["name"], *entry.get("places", [])]:
            assert gazetteer.resolve(place).locality == locality_id, place


# --- the ways people say it -----------------------------------------------------------------

@pytest.mark.parametrize("said, locality", [
    ("Wittersham", "ashford"), ("wittersham", "ashford"), ("WITTERSHAM!", "ashford"),
    ("near Wye", "ashford"), ("Hythe, Kent", "south_kent_coast"), ("just outside Hythe", "south_kent_coast"),
    ("in Deal", "south_kent_coast"), ("she's in Broadstairs", "thanet"), ("my dad lives in Lenham, Kent", "west_kent"),
    ("Westgate-on-Sea", "thanet"), ("Westgate on sea", "thanet"), ("westgate", "thanet"), ("Leysdown on Sea", "swale"),
    ("St Margaret's at Cliffe", "south_kent_coast"), ("Saint Margarets-at-Cliffe", "south_kent_coast"),
    ("St. Nicholas at Wade", "thanet"), ("Royal Tunbridge Wells", "west_kent"), ("Tunbridge Wells", "west_kent"),
    ("Faversham", "canterbury_coastal"), ("Swanley", "dartford_gravesham_swanley"), ("New Ash Green", "dartford_gravesham_swanley"),
])
def test_a_kent_place_however_it_is_written_gives_its_locality(gazetteer, said, locality):
    result = gazetteer.resolve(said)
    assert (result.status, result.locality) == (INSIDE, locality)


@pytest.mark.parametrize("said, locality", [
    ("Tenterdon", "ashford"), ("Folkstone", "south_kent_coast"), ("Cantebury", "canterbury_coastal"),
    ("Margte", "thanet"), ("Sittingborne", "swale"), ("Maidston", "west_kent"), ("Tunbridge Wels", "west_kent"),
    ("my mum lives in Sevenoakes", "west_kent"), ("Whitstabel", "canterbury_coastal"), ("Broadstars", "thanet"),
])
@pytest.mark.hazard("HAZ-004")
def test_a_misspelt_kent_town_is_recognised_by_fuzzy_matching(gazetteer, said, locality):
    result = gazetteer.resolve(said)
    assert (result.status, result.locality, result.how) == (INSIDE, locality, "fuzzy")


@pytest.mark.hazard("HAZ-008")
@pytest.mark.parametrize("said", ["Tonbridge", "Tunbridge"])
def test_a_misspelling_too_close_to_two_places_is_not_guessed(gazetteer, said):
    # "Tunbridge" is one letter from Tonbridge and a part of Tunbridge Wells: both West Kent,
    # so the locality is safe to give; the check is that nothing outside is picked.
    assert gazetteer.resolve(said).locality == "west_kent"


@pytest.mark.parametrize("said, locality", [
    ("ME13 8AB", "canterbury_coastal"), ("me13 8ab", "canterbury_coastal"), ("ME138AB", "canterbury_coastal"),
    ("me13-8ab", "canterbury_coastal"), ("ME13", "canterbury_coastal"), ("tn30", "ashford"), ("TN30 6AB", "ashford"),
    ("CT9 1XX", "thanet"), ("it's DA1 2EN", "dartford_gravesham_swanley"), ("BR8 7AA", "dartford_gravesham_swanley"),
    ("Tenterden TN30 6AB", "ashford"), ("TN14 5AA", "west_kent"),
])
@pytest.mark.hazard("HAZ-004")
def test_a_kent_postcode_in_any_format_gives_its_locality(gazetteer, said, locality):
    result = gazetteer.resolve(said)
    assert (result.status, result.locality) == (INSIDE, locality)


@pytest.mark.parametrize("said", ["ME1", "ME5 7AA", "TN3", "TN16", "TN14", "TN14 7AA", "DA5", "CT4", "TN27"])
def test_a_postcode_district_shared_by_two_areas_is_ambiguous(gazetteer, said):
    assert gazetteer.resolve(said).status == AMBIGUOUS


@pytest.mark.parametrize("said, council", [
    ("Chatham", "Medway Council"), ("Gillingham", "Medway Council"), ("Rochester", "Medway Council"),
    ("Strood", "Medway Council"), ("Rainham", "Medway Council"), ("Hoo St Werburgh", "Medway Council"),
    ("ME4 4TR", "Medway Council"), ("me8", "Medway Council"), ("Crowborough", "East Sussex County Council"),
    ("Rye", "East Sussex County Council"), ("Oxted", "Surrey County Council"), ("Bexleyheath", "London Borough of Bexley"),
    ("Orpington", "London Borough of Bromley"), ("Woolwich", "Royal Borough of Greenwich"), ("Grays", "Thurrock Council"),
    ("TN6 1AA", "East Sussex County Council"), ("near Chatham, Kent", "Medway Council"),
])
def test_a_place_outside_kent_is_outside_with_its_own_council(gazetteer, said, council):
    result = gazetteer.resolve(said)
    assert (result.status, result.council) == (OUTSIDE, council)
    assert result.fact_value and gazetteer.resolve(result.fact_value).status == OUTSIDE   # stable when read again


def test_a_full_postcode_elsewhere_in_the_uk_is_outside_with_no_council_named(gazetteer):
    result = gazetteer.resolve("M1 1AE")
    assert (result.status, result.place, result.council) == (OUTSIDE, "M1 1AE", None)


@pytest.mark.parametrize("said, localities", [
    ("Minster", {"thanet", "swale"}), ("Newington", {"thanet", "swale", "south_kent_coast"}),
    ("Preston", {"canterbury_coastal", "south_kent_coast"}), ("Goodnestone", {"canterbury_coastal", "south_kent_coast"}),
    ("Kingsnorth", {"ashford", "outside:Medway Council"}), ("Walderslade", {"west_kent", "outside:Medway Council"}),
    ("Groombridge", {"west_kent", "outside:East Sussex County Council"}), ("Kent", {"ashford", "thanet", "swale", "west_kent",
     "canterbury_coastal", "south_kent_coast", "dartford_gravesham_swanley"}),
    ("between Maidstone and Chatham", {"west_kent", "outside:Medway Council"}),
])
@pytest.mark.hazard("HAZ-008")
def test_a_name_in_two_localities_or_inside_and_outside_is_ambiguous_with_its_candidates(gazetteer, said, localities):
    result = gazetteer.resolve(said)
    assert result.status == AMBIGUOUS and result.fact_value is None
    assert {c.target for c in result.candidates} == localities


@pytest.mark.parametrize("said", ["at home", "in the kitchen", "rather not say", "I'd rather not say", "I don't know",
                                  "by the river", "in hospital", "a care home", "I had a sandwich", "", "   ",
                                  "Manchester Road", "the bridge", "x" * 600])
@pytest.mark.hazard("HAZ-004")
def test_what_is_not_a_place_is_unresolved_never_outside(gazetteer, said):
    result = gazetteer.resolve(said)
    assert result.status == UNRESOLVED and result.fact_value is None


def test_everyday_word_places_count_with_a_capital_or_as_the_whole_answer(gazetteer):
    assert gazetteer.resolve("deal").locality == "south_kent_coast"
    assert gazetteer.resolve("she's at the deal with the council").status == UNRESOLVED
    assert gazetteer.resolve("she lives in Deal").locality == "south_kent_coast"


def test_ambiguous_candidates_are_offered_by_place_and_locality_name(gazetteer):
    options = gazetteer.choices(gazetteer.resolve("Minster"))
    assert {o["label"] for o in options} == {"Minster (Thanet)", "Minster-on-Sea (Swale)"}
    assert {o["value"] for o in options} == {"thanet", "swale"}


@pytest.mark.parametrize("said, place", [("Chatam", "Chatham"), ("Gillingam", "Gillingham (Kent)"),
                                         ("Crowborogh", "Crowborough")])
def test_a_misspelling_that_reads_as_a_place_outside_is_asked_about_not_taken_as_outside(gazetteer, said, place):
    result = gazetteer.resolve(said)
    assert result.status == AMBIGUOUS and result.fact_value is None
    assert [c.name for c in result.candidates] == [place]
    assert gazetteer.choices(result)[0]["value"] == place       # the button gives the place: then outside
    assert gazetteer.resolve(place).status == OUTSIDE
