import pytest
"""Consent to share: asked before MDT and voluntary-sector referrals, never before 999."""
from spoa.consent import needs_consent, referral_withheld

NO_SAFEGUARDING = {"safeguarding": {"level": "none"}}


def test_lonely_person_who_says_no_to_sharing_gets_signposting_not_a_referral():
    assert needs_consent("voluntary_sector", NO_SAFEGUARDING, {})
    assert referral_withheld("voluntary_sector", NO_SAFEGUARDING, {"consent_to_share": False})


def test_lonely_person_who_says_yes_or_could_not_say_is_still_referred():
    assert not referral_withheld("voluntary_sector", NO_SAFEGUARDING, {"consent_to_share": True})
    assert not referral_withheld("voluntary_sector", NO_SAFEGUARDING, {"consent_to_share": None})
    assert not referral_withheld("voluntary_sector", NO_SAFEGUARDING, {})


@pytest.mark.hazard("HAZ-009")
def test_care_act_assessment_needs_consent_but_urgent_response_and_999_do_not():
    assert needs_consent("mdt", NO_SAFEGUARDING, {})
    assert not needs_consent("rapid_response", NO_SAFEGUARDING, {"consent_to_share": False})
    assert not needs_consent("emergency", NO_SAFEGUARDING, {"consent_to_share": False})
    assert not referral_withheld("emergency", NO_SAFEGUARDING, {"consent_to_share": False})


def test_person_lacking_capacity_is_referred_without_consent_but_one_with_capacity_is_asked():
    assert not referral_withheld("mdt", NO_SAFEGUARDING, {"consent_to_share": False, "lacks_capacity": True})
    assert referral_withheld("mdt", NO_SAFEGUARDING, {"consent_to_share": False, "lacks_capacity": False})


@pytest.mark.hazard("HAZ-009")
def test_safeguarding_referral_follows_safe5_not_consent_to_share():
    decision = {"safeguarding": {"level": "referral"}}
    assert not needs_consent("mdt", decision, {"consent_to_share": False})
    assert needs_consent("mdt", {"safeguarding": {"level": "concern"}}, {"consent_to_share": False})


@pytest.mark.hazard("HAZ-009")
def test_organisational_abuse_and_a_child_at_risk_are_grounds_to_refer_without_consent():
    assert not needs_consent("mdt", NO_SAFEGUARDING, {"abuse_types": ["organisational"]})
    assert needs_consent("mdt", NO_SAFEGUARDING, {"abuse_types": ["financial"]})
    assert not needs_consent("mdt", NO_SAFEGUARDING, {"child_at_risk": True})
