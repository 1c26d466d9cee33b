"""The profiles, code systems and message definition the referral message follows.

BaRS (the NHS Booking and Referral Standard) defines a referral request as a FHIR R4 message:
a `Bundle` of type `message` whose first entry is a `MessageHeader` (event
`servicerequest-request`) focused on a `ServiceRequest`, with the resources its
MessageDefinition lists. The URLs below are the ones BaRS publishes
(https://simplifier.net/nhsbookingandreferrals); resources BaRS does not profile itself
follow UK Core (https://simplifier.net/hl7fhirukcorer4).

Nothing here is fetched: profile conformance is *declared* in `meta.profile`, not checked
offline (see docs/FHIR.md for what is and is not checked).
"""
from __future__ import annotations

from dataclasses import dataclass

BARS = "https://fhir.nhs.uk/StructureDefinition/"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"

MESSAGE_DEFINITION = "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral"
EVENT_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
EVENT_CODE = "servicerequest-request"
REASON_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
REASONS = ("new", "update")
CATEGORY_SYSTEM = "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest"
CATEGORY_CODE = "referral"

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
FLAG_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-category"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY_SYSTEM = "http://loinc.org"
ENCOUNTER_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

PROFILES = {
    "Bundle": BARS + "BARSBundleMessage",
    "MessageHeader": BARS + "BARSMessageHeader-servicerequest-request",
    "ServiceRequest": BARS + "BARSServiceRequest-request-referral",
    **{name: UK_CORE + name for name in (
        "Patient", "Encounter", "CarePlan", "Organization", "HealthcareService", "Consent", "Flag",
        "QuestionnaireResponse", "Practitioner", "PractitionerRole")},
}


@dataclass(frozen=True)
class Focus:
    """One `focus` of the MessageDefinition: how many of a resource type the Bundle carries."""
    resource: str
    min: int
    max: int | None  # None: any number ("*")


# The BaRS referral request MessageDefinition's focus list (resource, min, max), for the
# resources this service sends or could be sent; resource types not listed here are refused.
# Where the definition lists a type twice under two profiles (Flag, Location) the counts add up.
REFERRAL_REQUEST_FOCUS = (
    Focus("Bundle", 1, 1),
    Focus("MessageHeader", 1, 1),
    Focus("ServiceRequest", 1, 1),
    Focus("Patient", 1, 1),
    Focus("Encounter", 1, 1),
    Focus("CarePlan", 1, 1),
    Focus("Location", 0, None),
    Focus("Organization", 2, None),
    Focus("Practitioner", 1, None),
    Focus("PractitionerRole", 1, None),
    Focus("Observation", 0, None),
    Focus("Flag", 0, None),
    Focus("MedicationStatement", 0, None),
    Focus("AllergyIntolerance", 0, None),
    Focus("Questionnaire", 0, None),
    Focus("QuestionnaireResponse", 0, None),
    Focus("Consent", 1, None),
    Focus("HealthcareService", 1, None),
    Focus("Condition", 0, None),
    Focus("Task", 0, None),
    Focus("Communication", 0, None),
    Focus("Procedure", 0, None),
    Focus("Device", 0, 1),
    Focus("RelatedPerson", 0, None),
)
