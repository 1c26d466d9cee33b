import pytest
"""Working-day targets with England's bank holidays, in boundary pairs."""
from datetime import date, datetime, timezone

from spoa.working_days import add_working_days, due_at, is_working_day, target_words

UTC = timezone.utc


def test_christmas_2026_boxing_day_substitute_monday_is_not_a_working_day():
    assert not is_working_day(date(2026, 12, 28))   # Boxing Day (Saturday) moves to Monday
    assert is_working_day(date(2026, 12, 29))


@pytest.mark.hazard("HAZ-011")
def test_mdt_referral_on_christmas_eve_skips_the_bank_holiday_weekend():
    # Thu 24 Dec: Fri 25 (Christmas), Sat, Sun, Mon 28 (Boxing Day observed) don't count.
    assert due_at(datetime(2026, 12, 24, 10, 0, tzinfo=UTC), "P2D") == datetime(2026, 12, 30, 10, 0, tzinfo=UTC)


def test_mdt_referral_the_day_before_christmas_eve_is_due_after_the_weekend():
    # Wed 23 Dec: Thu 24 is the first working day, Tue 29 the second.
    assert due_at(datetime(2026, 12, 23, 10, 0, tzinfo=UTC), "P2D") == datetime(2026, 12, 29, 10, 0, tzinfo=UTC)


@pytest.mark.hazard("HAZ-011")
def test_voluntary_sector_referral_over_easter_2027_skips_good_friday_and_easter_monday():
    # Thu 25 Mar 2027 + 5 working days: Tue 30, Wed 31, Thu 1, Fri 2, Mon 5 April (BST from 28 March).
    start = datetime(2027, 3, 25, 10, 0, tzinfo=UTC)           # 10:00 GMT
    assert due_at(start, "P5D") == datetime(2027, 4, 5, 9, 0, tzinfo=UTC)  # 10:00 BST, same local time


def test_voluntary_sector_referral_a_week_before_easter_counts_every_weekday():
    assert due_at(datetime(2027, 3, 18, 10, 0, tzinfo=UTC), "P5D") == datetime(2027, 3, 25, 10, 0, tzinfo=UTC)


def test_a_saturday_contact_counts_from_monday_and_a_friday_one_from_monday_too():
    assert add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)


@pytest.mark.hazard("HAZ-011")
def test_urgent_community_response_hours_run_through_the_bank_holiday():
    start = datetime(2026, 12, 24, 23, 0, tzinfo=UTC)
    assert due_at(start, "PT2H") == datetime(2026, 12, 25, 1, 0, tzinfo=UTC)
    assert due_at(start, "PT24H") == datetime(2026, 12, 25, 23, 0, tzinfo=UTC)


def test_no_target_has_no_deadline_and_999_is_now():
    assert due_at(datetime(2026, 12, 24, 10, 0, tzinfo=UTC), None) is None
    assert due_at(datetime(2026, 12, 24, 10, 0, tzinfo=UTC), "PT0M") == datetime(2026, 12, 24, 10, 0, tzinfo=UTC)


@pytest.mark.hazard("HAZ-011")
def test_targets_in_words_say_working_days_for_days_and_hours_for_hours():
    assert target_words("P2D") == "within 2 working days"
    assert target_words("P1D") == "within 1 working day"
    assert target_words("PT2H") == "within 2 hours"
    assert target_words("PT0M") == "now"
    assert target_words(None) is None
