"""The one UK postcode parser: the gazetteer and the person's address both use it."""
import pytest

from spoa.postcodes import Postcode, PostcodeError, find_postcode, is_postcode, parse_outward, parse_postcode, read_postcode


@pytest.mark.parametrize("text", ["ME13 8AB", "me13 8ab", "ME138AB", " me13  8ab ", "Me13 8aB"])
def test_a_full_postcode_in_any_case_and_spacing_is_read_the_same(text):
    assert read_postcode(text) == Postcode("ME13", "8AB")
    assert str(read_postcode(text)) == "ME13 8AB"
    assert read_postcode(text).sector == "ME13 8"
    assert read_postcode(text).area == "ME"


@pytest.mark.parametrize("text, expected", [
    ("CT1 1AA", "CT1 1AA"), ("TN30 6AB", "TN30 6AB"), ("DA1 2EN", "DA1 2EN"), ("BR8 7AA", "BR8 7AA"),
    ("SW1A 1AA", "SW1A 1AA"), ("W1D 3QU", "W1D 3QU"), ("EC1A 1BB", "EC1A 1BB"), ("E1W 1AA", "E1W 1AA"),
    ("B1 1AA", "B1 1AA"), ("GIR 0AA", "GIR 0AA"),
])
def test_every_shape_of_uk_postcode_is_valid(text, expected):
    assert str(read_postcode(text)) == expected
    assert is_postcode(text)


@pytest.mark.parametrize("text", [
    "ME13 8CB",     # C is never an inward letter
    "ME13 8AI",     # nor I
    "QE13 8AB",     # Q is no postcode area
    "XX1 1AA",      # nor XX
    "ME1Z 8AB",     # Z is not a district letter
    "W1I 3QU",      # I is not allowed in A9A
    "ME13",         # outward code only
    "ME13 8A",      # inward code cut short
    "12345", "", "at home",
])
def test_a_malformed_or_partial_postcode_is_not_valid(text):
    assert read_postcode(text) is None
    assert not is_postcode(text)


def test_an_outward_code_alone_is_read_and_a_non_area_is_not():
    assert parse_outward(" tn30 ") == "TN30"
    assert parse_outward("SW1A") == "SW1A"
    assert parse_outward("ZZ1") is None
    assert parse_outward("TN30 6AB") is None
    assert parse_outward(None) is None


def test_a_postcode_inside_a_sentence_is_found_and_a_full_one_wins_over_an_outward_code():
    assert find_postcode("she's at 12 High St, Tenterden tn30 6ab") == Postcode("TN30", "6AB")
    assert find_postcode("somewhere in TN30, then CT1 2EH") == Postcode("CT1", "2EH")
    assert find_postcode("postcode me13-8ab please") == Postcode("ME13", "8AB")
    assert find_postcode("we're in ME13") == "ME13"


def test_words_and_road_names_are_not_postcodes():
    assert find_postcode("at home in the kitchen") is None
    assert find_postcode("rather not say") is None
    assert find_postcode("off the A2 near the roundabout") is None   # A is no postcode area
    assert find_postcode(None) is None


def test_an_address_postcode_is_given_back_in_standard_form_or_refused_with_a_message():
    assert parse_postcode("ct12ab") == "CT1 2AB"
    with pytest.raises(PostcodeError, match="not a UK postcode"):
        parse_postcode("Canterbury")
    with pytest.raises(PostcodeError, match="Enter a postcode"):
        parse_postcode("  ")
