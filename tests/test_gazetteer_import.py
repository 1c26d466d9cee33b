"""`spoa gazetteer import`: a gazetteer from the ONS Index of Place Names and the ONS Postcode
Directory, for a deployment elsewhere (small files in the ONS shape, tests/data/)."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from spoa import gazetteer_import as onsimport
from spoa.cli import main
from spoa.config import load_config
from spoa.gazetteer import AMBIGUOUS, INSIDE, OUTSIDE, load_gazetteer

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
AREAS = onsimport.load_areas(ROOT / "data" / "places" / "kent_areas.yml")


def test_ipn_places_are_mapped_by_district_with_the_exceptions_and_neighbours_outside():
    rows = onsimport.places_from_ipn(onsimport.read_csv(DATA / "ipn_sample.csv"), AREAS)
    by_name = {row["name"]: row for row in rows}
    assert by_name["Wittersham"]["locality"] == "ashford" and by_name["Wittersham"]["kind"] == "parish"
    assert by_name["Small Hythe"]["locality"] == "ashford"
    assert by_name["Faversham"]["locality"] == "canterbury_coastal"        # Swale district, its exception
    assert by_name["Teynham"]["locality"] == "swale"
    assert by_name["Swanley"]["locality"] == "dartford_gravesham_swanley"  # Sevenoaks district, its exception
    assert (by_name["Chatham"]["locality"], by_name["Chatham"]["council"]) == ("", "Medway Council")
    assert "Leeds" not in by_name                                          # neither the area nor a neighbour
    assert [row["name"] for row in rows].count("Teynham") == 1             # the ward row is not a place


def test_onspd_postcodes_make_districts_and_a_shared_district_gets_its_sectors():
    areas = onsimport.with_parish_codes(onsimport.read_csv(DATA / "ipn_sample.csv"), AREAS)
    rows = onsimport.postcode_districts_from_onspd(onsimport.read_csv(DATA / "onspd_sample.csv"), areas)
    pairs = [(row["postcode"], row["locality"] or row["council"]) for row in rows]
    assert ("TN30", "ashford") in pairs and ("ME13", "canterbury_coastal") in pairs
    assert {p for p in pairs if p[0] == "ME1"} == {("ME1", "west_kent"), ("ME1", "Medway Council")}
    assert ("ME1 1", "Medway Council") in pairs and ("ME1 3", "west_kent") in pairs
    assert not any(code.startswith("LS") for code, _ in pairs)             # outside the areas file
    assert ("ME1 3", "west_kent") in pairs and len([p for p in pairs if p[0] == "ME1 3"]) == 1  # terminated one left out


def test_the_cli_writes_a_gazetteer_the_resolver_loads(tmp_path):
    result = CliRunner().invoke(main, ["gazetteer", "import", "--ipn", str(DATA / "ipn_sample.csv"),
                                       "--onspd", str(DATA / "onspd_sample.csv"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "places" in result.output
    gazetteer = load_gazetteer(tmp_path / "gazetteer.yml", load_config(ROOT / "config.yml").localities)
    assert gazetteer.resolve("Wittersham").status == INSIDE
    assert gazetteer.resolve("Chatham").status == OUTSIDE and gazetteer.resolve("Chatham").council == "Medway Council"
    assert gazetteer.resolve("ME1").status == AMBIGUOUS
    assert gazetteer.resolve("ME1 3XY").locality == "west_kent"
    assert gazetteer.resolve("TN30 6AB").locality == "ashford"


def test_a_file_that_is_not_in_the_ons_shape_is_refused_with_the_missing_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,district\nWittersham,Ashford\n", encoding="utf-8")
    with pytest.raises(onsimport.GazetteerImportError, match="place"):
        onsimport.places_from_ipn(onsimport.read_csv(bad), AREAS, "bad.csv")


def test_the_cli_resolves_a_place():
    result = CliRunner().invoke(main, ["gazetteer", "resolve", "Wittersham"])
    assert result.exit_code == 0 and '"locality": "ashford"' in result.output
