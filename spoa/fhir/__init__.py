"""The referral as a FHIR R4 message (BaRS referral request): build it, check it. Pure.

- `referral_bundle(Referral)`   the message Bundle as a JSON-ready dict (spoa.fhir.referral)
- `check_message(bundle)`       raise MessageInvalid unless it is a valid referral request
  (fhir.resources R4B structure + the MessageDefinition's cardinalities; spoa.fhir.check)
- `email_summary(Referral)`     the plain-text summary for a team with no endpoint
- `without_person(bundle, pseudonym)`  the message once the person's details are erased
- profiles: the BaRS / UK Core URLs and the MessageDefinition's focus list
"""
from .check import MessageInvalid, check_message, message_id, message_problems
from .referral import Organisation, Person, Referral, referral_bundle, without_person
from .summary import email_summary

__all__ = ["MessageInvalid", "Organisation", "Person", "Referral", "check_message", "email_summary",
           "message_id", "message_problems", "referral_bundle", "without_person"]
