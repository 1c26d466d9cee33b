"""The person's details: each check in boundary pairs (one just right, one just wrong)."""
from datetime import date

import pytest

from spoa.person import (PersonError, display, format_phone, missing_for_referral, nhs_check_digit,
                         parse_field, parse_nhs_number, parse_person, parse_phone)
from spoa.postcodes import PostcodeError, is_postcode, parse_postcode

TODAY = date(2026, 11, 29)


def test_nhs_number_with_the_right_check_digit_is_accepted_spaced_or_not():
    assert parse_nhs_number("943 476 5919") == "9434765919"
    assert parse_nhs_number("9434765919") == "9434765919"


def test_nhs_number_with_one_digit_wrong_is_refused_for_its_check_digit():
    with pytest.raises(PersonError, match="check digit"):
        parse_nhs_number("943 476 5918")


def test_nhs_number_whose_check_would_be_ten_can_never_be_valid():
    # 11 - (sum % 11) == 10 happens when sum % 11 == 1: no check digit exists.
    first_nine = next(f"{n:09d}" for n in range(1, 10**6) if
                      sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1))) % 11 == 1)
    assert nhs_check_digit(first_nine) is None
    for last in "0123456789":
        with pytest.raises(PersonError):
            parse_nhs_number(first_nine + last)


def test_nhs_number_of_nine_or_eleven_digits_is_refused_as_the_wrong_length():
    with pytest.raises(PersonError, match="10 digits"):
        parse_nhs_number("943476591")
    with pytest.raises(PersonError, match="10 digits"):
        parse_nhs_number("94347659190")


def test_uk_mobile_in_international_form_becomes_national_digits():
    assert parse_phone("+44 (0)7700 900123") == "07700900123"
    assert parse_phone("0044 7700 900123") == "07700900123"
    assert parse_phone("07700-900-123") == "07700900123"


def test_mobile_one_digit_short_is_refused_but_a_ten_digit_landline_is_not():
    with pytest.raises(PersonError, match="not a UK phone number"):
        parse_phone("0770090012")
    assert parse_phone("016977 3456") == "0169773456"


def test_premium_rate_and_unused_ranges_cannot_reach_a_person():
    for number in ("09098 790123", "04123 456789", "06123 456789"):
        with pytest.raises(PersonError):
            parse_phone(number)


def test_a_word_is_not_a_phone_number():
    with pytest.raises(PersonError, match="not a UK phone number"):
        parse_phone("my daughter's")


def test_phones_are_spaced_for_reading_out():
    assert format_phone("02079460018") == "020 7946 0018"
    assert format_phone("01134960000") == "0113 496 0000"
    assert format_phone("07700900123") == "07700 900123"


def test_postcode_typed_in_lower_case_without_a_space_is_normalised():
    assert parse_postcode("ct12ab") == "CT1 2AB"
    assert parse_postcode(" ME14 1XQ ") == "ME14 1XQ"


def test_postcode_with_a_letter_not_used_inward_is_refused():
    assert is_postcode("CT1 2AB")
    assert not is_postcode("CT1 2AC")  # C is never an inward letter
    with pytest.raises(PostcodeError, match="not a UK postcode"):
        parse_postcode("Canterbury")


def test_date_of_birth_is_read_day_first_and_today_is_allowed_but_tomorrow_is_not():
    assert parse_field("date_of_birth", "02/03/1948", today=TODAY) == "1948-03-02"
    assert parse_field("date_of_birth", "2nd March 1948", today=TODAY) == "1948-03-02"
    assert parse_field("date_of_birth", "2026-11-29", today=TODAY) == "2026-11-29"
    with pytest.raises(PersonError, match="future"):
        parse_field("date_of_birth", "2026-11-30", today=TODAY)


def test_date_of_birth_more_than_125_years_ago_is_a_typing_mistake():
    assert parse_field("date_of_birth", "01/01/1901", today=TODAY) == "1901-01-01"
    with pytest.raises(PersonError, match="check the year"):
        parse_field("date_of_birth", "01/01/1900", today=TODAY)


def test_every_bad_field_is_reported_at_once_and_blank_clears_a_field():
    with pytest.raises(PersonError) as caught:
        parse_person({"name": "Mary Jones", "phone": "12", "postcode": "nowhere", "nhs_number": "123"},
                     today=TODAY)
    assert set(caught.value.errors) == {"phone", "postcode", "nhs_number"}
    assert parse_person({"name": "  Mary   Jones ", "gp_practice": ""}, today=TODAY) == {
        "name": "Mary Jones", "gp_practice": None}


def test_caller_phone_error_names_the_callers_phone():
    with pytest.raises(PersonError) as caught:
        parse_person({"caller_phone": "999"}, today=TODAY)
    assert list(caught.value.errors) == ["caller_phone"]


def test_unknown_detail_and_non_text_values_are_refused():
    with pytest.raises(PersonError, match="Unknown detail"):
        parse_person({"shoe_size": "9"}, today=TODAY)
    with pytest.raises(PersonError, match="must be text"):
        parse_person({"name": 42}, today=TODAY)
    with pytest.raises(PersonError, match="JSON object"):
        parse_person(["Mary"], today=TODAY)


def test_a_referral_can_reach_a_person_with_a_phone_or_a_full_address():
    named = {"name": "Mary Jones", "date_of_birth": "1948-03-02"}
    assert missing_for_referral({**named, "phone": "07700900123"}) == []
    assert missing_for_referral({**named, "address": "1 High St, Canterbury", "postcode": "CT1 2AB"}) == []
    assert missing_for_referral({**named, "address": "1 High St, Canterbury"}) == ["phone", "postcode"]
    assert missing_for_referral({}) == ["name", "date_of_birth", "phone", "address", "postcode"]


def test_details_are_displayed_with_labels_in_asking_order():
    shown = display({"nhs_number": "9434765919", "name": "Mary Jones", "phone": "07700900123",
                     "date_of_birth": "1948-03-02"})
    assert list(shown.items()) == [("Name", "Mary Jones"), ("Date of birth", "02/03/1948"),
                                   ("Phone", "07700 900123"), ("NHS number", "943 476 5919")]
