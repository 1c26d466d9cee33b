"""An accepted referral as a BaRS referral request: a FHIR R4 message Bundle (pure).

`referral_bundle(referral)` turns what the service knows about one accepted referral (the
contact's facts and decision, the person's details, the duty worker who accepted it, the
receiving team) into a plain JSON-ready dict. Nothing here reads the database or the clock:
the caller passes everything in, so the same referral always gives the same message (except
for the MessageHeader id, which the caller chooses once per message: it is the idempotency
key the receiver de-duplicates on).

Resource ids are name-based UUIDs of the contact reference (and, for the ServiceRequest, the
receiving team), so an update to the same team carries the same ServiceRequest and Patient ids
as the first message.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Mapping, Sequence

from . import profiles as p

# Name-based ids for this service's resources (uuid5 of the contact reference and the type).
ID_NAMESPACE = uuid.UUID("7b0c39a4-3c1e-5d0f-9a3e-5f6f2b8f1c52")

# FHIR request priority by route: a rapid response (2 hours) or an urgent safeguarding concern
# is `urgent`; everything else sent from here is `routine` (999 is never sent as a referral).
PRIORITY_BY_ROUTE = {"rapid_response": "urgent", "mdt": "routine", "voluntary_sector": "routine"}


@dataclass(frozen=True)
class Organisation:
    """The sender (this service) or a receiving team: ODS code, where messages go."""
    id: str
    name: str
    ods: str | None = None
    endpoint: str | None = None     # the receiver's $process-message URL; None: email summary
    email: str | None = None
    service_name: str | None = None  # the receiving HealthcareService (default: the team's name)


@dataclass(frozen=True)
class Person:
    """Who the referral is about and how to reach them (kept apart from the triage facts),
    in spoa.person's standard forms: one name as given, one address text, national phone digits."""
    name: str | None = None
    birth_date: date | str | None = None
    address: str | None = None
    postcode: str | None = None
    phones: tuple[str, ...] = ()
    nhs_number: str | None = None
    gp_practice: str | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    caller_relationship: str | None = None


@dataclass(frozen=True)
class Referral:
    """Everything one referral message says, gathered by the caller."""
    reference: str                       # the contact's reference, e.g. SPA-7K3Q-9F2M
    message_id: str                      # the MessageHeader id (idempotency key)
    reason: str                          # "new" or "update"
    received_at: datetime
    accepted_at: datetime
    accepted_by: str                     # the duty worker's user name
    route: str
    pathway: str | None
    decision: Mapping[str, Any]
    facts: Mapping[str, Any]
    sender: Organisation
    team: Organisation
    due_at: datetime | None = None       # the response deadline
    channel: str | None = None
    locality_name: str | None = None
    person: Person | None = None
    questions: Mapping[str, str] = field(default_factory=dict)   # fact id -> the question asked
    labels: Mapping[str, str] = field(default_factory=dict)      # route/pathway code -> words
    # The base of this service's own identifier and code systems (config `referrals.system_base`).
    system_base: str = "https://spoa.example.nhs.uk"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _uid(reference: str, kind: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{reference}/{kind}"))


def _ref(resource: dict) -> dict:
    return {"reference": f"urn:uuid:{resource['id']}"}


def _meta(resource_type: str) -> dict:
    return {"profile": [p.PROFILES[resource_type]]}


def _label(referral: Referral, code: str | None) -> str | None:
    return referral.labels.get(code, code.replace("_", " ") if code else None) if code else None


def _organisation(org: Organisation, reference: str) -> dict:
    resource: dict[str, Any] = {"resourceType": "Organization", "id": _uid(reference, f"org/{org.id}"),
                                "meta": _meta("Organization"), "active": True, "name": org.name}
    if org.ods:
        resource["identifier"] = [{"system": p.ODS_SYSTEM, "value": org.ods}]
    telecom = [{"system": "email", "value": org.email}] if org.email else []
    if org.endpoint:
        telecom.append({"system": "url", "value": org.endpoint})
    if telecom:
        resource["telecom"] = telecom
    return resource


def _patient(referral: Referral) -> dict:
    person = referral.person or Person()
    patient: dict[str, Any] = {"resourceType": "Patient", "id": _uid(referral.reference, "patient"),
                               "meta": _meta("Patient")}
    if person.nhs_number:
        patient["identifier"] = [{"system": p.NHS_NUMBER_SYSTEM, "value": person.nhs_number}]
    if person.name:
        # One name as the person gave it: splitting it into given and family names would guess.
        patient["name"] = [{"use": "official", "text": person.name}]
    if person.birth_date:
        patient["birthDate"] = str(person.birth_date)
    if person.address or person.postcode:
        address: dict[str, Any] = {"use": "home", "type": "physical"}
        if person.address:
            address["text"] = person.address
            address["line"] = [part.strip() for part in person.address.split(",") if part.strip()]
        if referral.locality_name:
            address["district"] = referral.locality_name
        if person.postcode:
            address["postalCode"] = person.postcode
        patient["address"] = [address]
    if person.phones:
        patient["telecom"] = [{"system": "phone", "value": phone, "rank": rank}
                              for rank, phone in enumerate(person.phones, 1)]
    if person.gp_practice:
        patient["generalPractitioner"] = [{"display": person.gp_practice}]
    if person.caller_name or person.caller_phone:
        contact: dict[str, Any] = {}
        if person.caller_relationship:
            contact["relationship"] = [{"text": person.caller_relationship}]
        if person.caller_name:
            contact["name"] = {"text": person.caller_name}
        if person.caller_phone:
            contact["telecom"] = [{"system": "phone", "value": person.caller_phone}]
        patient["contact"] = [contact]
    return patient


def _answer(value: Any) -> list[dict]:
    """A fact's value as QuestionnaireResponse answers; unknown (null) says so."""
    if value is None:
        return [{"valueCoding": {"system": p.DATA_ABSENT_SYSTEM, "code": "asked-unknown",
                                 "display": "Asked but unknown"}}]
    if isinstance(value, bool):
        return [{"valueBoolean": value}]
    if isinstance(value, int):
        return [{"valueInteger": value}]
    if isinstance(value, (list, tuple)):
        return [answer for item in value for answer in _answer(item)] or [{"valueString": "none"}]
    return [{"valueString": str(value)}]


NOT_ASKED = [{"valueCoding": {"system": p.DATA_ABSENT_SYSTEM, "code": "not-asked", "display": "Not asked"}}]


def _questionnaire_response(referral: Referral, patient: dict, encounter: dict) -> dict:
    """The questions asked and the answers; facts the decision still needs show as not asked."""
    missing = [fact for fact in referral.decision.get("missing") or [] if fact not in referral.facts]
    items = []
    for fact in [*referral.facts, *missing]:
        item = {"linkId": fact, "text": " ".join((referral.questions.get(fact) or fact).split()),
                "answer": _answer(referral.facts[fact]) if fact in referral.facts else NOT_ASKED}
        items.append(item)
    return {"resourceType": "QuestionnaireResponse", "id": _uid(referral.reference, "answers"),
            "meta": _meta("QuestionnaireResponse"),
            "status": "completed" if not missing else "in-progress",
            "subject": _ref(patient), "encounter": _ref(encounter),
            "authored": _iso(referral.accepted_at), "item": items}


def _care_plan(referral: Referral, patient: dict, encounter: dict) -> dict:
    """The triage outcome and why: the rules that fired, each with its source."""
    decision = referral.decision
    route, pathway = _label(referral, referral.route), _label(referral, referral.pathway)
    outcome = f"{route}: {pathway}" if pathway else route
    notes = [{"text": f"{fired['rule']}"
                      + (f" v{fired['version']}" if fired.get("version") not in (None, "") else "")
                      + (f" ({fired['source']})" if fired.get("source") else "")}
             for fired in decision.get("fired") or []]
    notes += [{"text": f"Review: {reason}"} for reason in decision.get("review_reasons") or []]
    description = f"Triage outcome {outcome}; response target {decision.get('response_target') or 'none'}; " \
                  f"ruleset {decision.get('ruleset_version', 'unknown')}."
    care_plan = {"resourceType": "CarePlan", "id": _uid(referral.reference, "careplan"), "meta": _meta("CarePlan"),
                 "status": "active", "intent": "plan", "title": f"Triage outcome: {outcome}",
                 "description": description, "subject": _ref(patient), "encounter": _ref(encounter),
                 "created": _iso(referral.accepted_at)}
    if notes:
        care_plan["note"] = notes
    return care_plan


CONSENT_BASIS_WORDS = {
    "lacks_capacity": "the person lacks capacity to decide (Mental Capacity Act 2005)",
    "others_at_risk": "others are at risk",
    "immediate_danger": "the person is in immediate danger",
    "organisational": "organisational abuse",
}


def _consent(referral: Referral, patient: dict) -> dict:
    """What the person agreed to: consent to share, a lawful basis to share without it, or
    (for urgent direct care) implied consent."""
    basis = (referral.decision.get("safeguarding") or {}).get("consent_basis")
    given = referral.facts.get("consent_to_share")
    if given is False and basis not in CONSENT_BASIS_WORDS:
        rule, kind = "The person declined to share their details", "deny"
    elif given is True or basis == "consent":
        rule, kind = "The person consented to share their details with the receiving team", "permit"
    elif basis in CONSENT_BASIS_WORDS:
        rule, kind = f"Shared without consent: {CONSENT_BASIS_WORDS[basis]}", "permit"
    else:
        rule, kind = "Implied consent for direct care", "permit"
    return {"resourceType": "Consent", "id": _uid(referral.reference, "consent"), "meta": _meta("Consent"),
            "status": "active",
            "scope": {"coding": [{"system": p.CONSENT_SCOPE_SYSTEM, "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": p.CONSENT_CATEGORY_SYSTEM, "code": "59284-0",
                                      "display": "Patient Consent"}]}],
            "patient": _ref(patient), "dateTime": _iso(referral.accepted_at),
            "policyRule": {"text": rule}, "provision": {"type": kind}}


def _flag(referral: Referral, patient: dict, encounter: dict) -> dict | None:
    safeguarding = referral.decision.get("safeguarding") or {}
    level = safeguarding.get("level") or "none"
    if level == "none":
        return None
    about = ", ".join(safeguarding.get("about") or []) or "adult"
    categories = ", ".join(c.replace("_", " ") for c in safeguarding.get("categories") or []) or "not stated"
    return {"resourceType": "Flag", "id": _uid(referral.reference, "flag/safeguarding"), "meta": _meta("Flag"),
            "status": "active",
            "category": [{"coding": [{"system": p.FLAG_CATEGORY_SYSTEM, "code": "safety", "display": "Safety"}]}],
            "code": {"text": f"Safeguarding {level}: {categories} (about: {about})"},
            "subject": _ref(patient), "encounter": _ref(encounter),
            "period": {"start": _iso(referral.received_at)}}


def referral_bundle(referral: Referral) -> dict:
    """The BaRS referral request message for `referral`, as a JSON-ready dict."""
    if referral.reason not in p.REASONS:
        raise ValueError(f"reason must be one of {', '.join(p.REASONS)}; got {referral.reason!r}")
    ref = referral.reference
    sender, receiver = _organisation(referral.sender, ref), _organisation(referral.team, ref)
    service = {"resourceType": "HealthcareService", "id": _uid(ref, f"service/{referral.team.id}"),
               "meta": _meta("HealthcareService"), "active": True, "providedBy": _ref(receiver),
               "name": referral.team.service_name or referral.team.name}
    practitioner = {"resourceType": "Practitioner", "id": _uid(ref, f"practitioner/{referral.accepted_by}"),
                    "meta": _meta("Practitioner"),
                    "identifier": [{"system": f"{referral.system_base}/Id/staff-user",
                                    "value": referral.accepted_by}]}
    role = {"resourceType": "PractitionerRole", "id": _uid(ref, f"role/{referral.accepted_by}"),
            "meta": _meta("PractitionerRole"), "active": True, "practitioner": _ref(practitioner),
            "organization": _ref(sender), "code": [{"text": "Duty worker"}]}
    patient = _patient(referral)
    encounter = {"resourceType": "Encounter", "id": _uid(ref, "encounter"), "meta": _meta("Encounter"),
                 "identifier": [{"system": f"{referral.system_base}/Id/contact-reference", "value": ref}],
                 "status": "finished",
                 "class": {"system": p.ENCOUNTER_CLASS_SYSTEM, "code": "VR", "display": "virtual"},
                 "type": [{"text": f"Single point of access triage ({referral.channel or 'unknown channel'})"}],
                 "subject": _ref(patient), "serviceProvider": _ref(sender),
                 "period": {"start": _iso(referral.received_at), "end": _iso(referral.accepted_at)}}
    care_plan = _care_plan(referral, patient, encounter)
    answers = _questionnaire_response(referral, patient, encounter)
    consent = _consent(referral, patient)
    flag = _flag(referral, patient, encounter)
    level = (referral.decision.get("safeguarding") or {}).get("level")
    service_request: dict[str, Any] = {
        "resourceType": "ServiceRequest", "id": _uid(ref, f"servicerequest/{referral.team.id}"), "meta": _meta("ServiceRequest"),
        "identifier": [{"system": f"{referral.system_base}/Id/contact-reference", "value": ref}],
        "status": "active", "intent": "plan",
        "category": [{"coding": [{"system": p.CATEGORY_SYSTEM, "code": p.CATEGORY_CODE, "display": "Referral"}]}],
        "priority": "urgent" if level == "urgent" else PRIORITY_BY_ROUTE.get(referral.route, "routine"),
        "code": {"text": _label(referral, referral.route)},
        "subject": _ref(patient), "encounter": _ref(encounter), "authoredOn": _iso(referral.accepted_at),
        "requester": _ref(role), "performer": [_ref(service)],
        "supportingInfo": [_ref(care_plan), _ref(answers), _ref(consent)] + ([_ref(flag)] if flag else []),
    }
    if referral.pathway:
        service_request["reasonCode"] = [{"coding": [{"system": f"{referral.system_base}/CodeSystem/pathway",
                                                      "code": referral.pathway,
                                                      "display": _label(referral, referral.pathway)}],
                                          "text": _label(referral, referral.pathway)}]
    if referral.due_at is not None:
        service_request["occurrencePeriod"] = {"start": _iso(referral.accepted_at), "end": _iso(referral.due_at)}
    header = {"resourceType": "MessageHeader", "id": referral.message_id, "meta": _meta("MessageHeader"),
              "eventCoding": {"system": p.EVENT_SYSTEM, "code": p.EVENT_CODE},
              "destination": [{"name": referral.team.name,
                               "endpoint": referral.team.endpoint or f"mailto:{referral.team.email or 'unknown'}",
                               "receiver": _ref(receiver)}],
              "sender": _ref(sender),
              "source": {"name": referral.sender.name,
                         "endpoint": referral.sender.endpoint or "urn:spoa:sender"},
              "reason": {"coding": [{"system": p.REASON_SYSTEM, "code": referral.reason}]},
              "focus": [_ref(service_request)], "definition": p.MESSAGE_DEFINITION}
    resources: Sequence[dict | None] = (header, service_request, patient, encounter, care_plan, sender, receiver,
                                        service, practitioner, role, consent, flag, answers)
    return {"resourceType": "Bundle", "id": str(uuid.uuid5(ID_NAMESPACE, referral.message_id)),
            "meta": _meta("Bundle"), "type": "message", "timestamp": _iso(referral.accepted_at),
            "entry": [{"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
                      for resource in resources if resource is not None]}


def without_person(bundle: dict, pseudonym: str) -> dict:
    """The same message with the person's details gone (`spoa erase`): the Patient keeps its id
    (references still resolve) and carries only the pseudonym; nothing else names anyone."""
    entries = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient":
            resource = {key: resource[key] for key in ("resourceType", "id", "meta") if key in resource}
            resource["name"] = [{"use": "anonymous", "text": pseudonym}]
        entries.append({**entry, "resource": resource})
    return {**bundle, "entry": entries}
