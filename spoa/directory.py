"""The voluntary-sector service directory, in Open Referral UK / HSDS shape.

A council publishes its directory as ORUK/HSDS JSON: services, each run by an organization,
tagged with taxonomy terms and covering service areas (or delivered at locations). This
module imports that JSON (`import_oruk`), reads the project's own file (`load_directory`,
the same shape), and matches services to a person's locality and needs (`Directory.match`).

Needs are the engine's codes: `befriending` (VCS-1), `prevention` (VCS-3), `carer_support`
(VCS-4) and every `practical_help` value of the contract (VCS-2). A taxonomy term counts as
a need when its code is one of them, or when its name says so (NEED_KEYWORDS); terms that
mean nothing here are ignored. An area counts when it names a configured locality or one of
its places; a county-wide area ("Kent") covers every locality.

Matching is a dictionary look-up: the index by (locality, need) is built once, at load.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from spoa.vocabulary import need_codes

LIST_KEYS = ("services", "content", "contents", "items", "data", "results")
COUNTY_WIDE = {"kent", "kent wide", "kent-wide", "all of kent", "county wide", "county-wide", "countywide",
               "kent county", "whole of kent", "across kent"}
INACTIVE = {"inactive", "defunct", "closed", "temporarily closed", "withdrawn"}

# Words in a taxonomy term's name that mean one of our needs (lower case, whole words or
# the start of one). Council taxonomies differ; a deployment can pass its own taxonomy_map.
NEED_KEYWORDS: dict[str, tuple[str, ...]] = {
    "befriending": ("befriend", "loneliness", "lonely", "social isolation", "isolation", "companionship",
                    "social activities", "social groups", "friendship", "lunch and social"),
    "prevention": ("prevention", "preventative", "falls prevention", "strength and balance", "healthy living",
                   "staying well", "wellbeing", "independent living", "independence", "day activities",
                   "day centre", "exercise", "active ageing", "health walks"),
    "carer_support": ("carer", "carers", "respite", "caring for someone"),
    "shopping": ("shopping", "groceries", "prescription collection"),
    "cleaning": ("cleaning", "housework", "domestic help", "home help"),
    "gardening": ("gardening", "garden", "grass cutting"),
    "home_repairs": ("repair", "repairs", "handyperson", "handyman", "home maintenance", "home adaptations",
                     "minor adaptations", "diy"),
    "transport": ("transport", "community car", "car scheme", "dial a ride", "dial-a-ride", "driving",
                  "lifts", "travel"),
    "meals": ("meals", "meals on wheels", "lunch club", "food", "community meals", "hot meals"),
    "benefits_advice": ("benefit", "benefits", "welfare rights", "money advice", "debt", "financial advice",
                        "income maximisation", "advice on money"),
    "digital_help": ("digital", "computer", "internet", "technology", "tablet", "it skills",
                     "digital inclusion"),
    "home_from_hospital": ("home from hospital", "hospital discharge", "discharge", "settle in",
                           "settling home", "after hospital"),
    "bereavement_support": ("bereavement", "bereaved", "grief"),
}


class DirectoryError(ValueError):
    """Directory JSON that can't be used; the message says what was wrong and where."""


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    organization: str
    needs: tuple[str, ...]
    localities: tuple[str, ...]
    description: str = ""
    url: str = ""
    email: str = ""


@dataclass(frozen=True)
class Directory:
    """The usable services, what was skipped on import and why, and the match index."""
    services: tuple[Service, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    note: str = ""
    source_bytes: bytes = field(default=b"", repr=False, compare=False)   # what it was read from
    _index: Mapping[tuple[str, str], tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, services: Iterable[Service], skipped: Iterable[tuple[str, str]] = (), note: str = "",
              source_bytes: bytes = b"") -> "Directory":
        services = tuple(services)
        index: dict[tuple[str, str], list[int]] = defaultdict(list)
        for position, service in enumerate(services):
            for locality in service.localities:
                for need in service.needs:
                    index[(locality, need)].append(position)
        return cls(services, tuple(skipped), note, source_bytes,
                   {key: tuple(value) for key, value in index.items()})

    @property
    def localities(self) -> set[str]:
        return {locality for locality, _ in self._index}

    def covers(self, locality: str, need: str) -> bool:
        return bool(self._index.get((locality, need)))

    def match(self, locality: str | None, needs: Iterable[str], limit: int = 5) -> list[dict]:
        """Services in `locality` meeting any of `needs`, as decision `services` items.

        Services meeting more of the needs come first, then by name. `taxonomy` lists the
        needs each service meets (in need_codes() order). An unknown need code is a programming error: ValueError.
        """
        wanted = list(dict.fromkeys(needs))
        unknown = [need for need in wanted if need not in need_codes()]
        if unknown:
            raise ValueError(f"unknown need code(s) {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(need_codes())}")
        if not locality or limit <= 0:
            return []
        met: dict[int, list[str]] = defaultdict(list)
        for need in wanted:
            for position in self._index.get((locality, need), ()):
                met[position].append(need)
        ranked = sorted(met, key=lambda p: (-len(met[p]), self.services[p].name.casefold(), self.services[p].id))
        return [{"id": self.services[p].id, "name": self.services[p].name,
                 "organization": self.services[p].organization,
                 "taxonomy": [need for need in self.services[p].needs if need in met[p]],
                 "locality": locality} for p in ranked[:limit]]


# ---------------------------------------------------------------------------------------
# Loading

def load_directory(path: str | Path, config=None, taxonomy_map: Mapping[str, str] | None = None) -> Directory:
    """Read the project's directory file (ORUK/HSDS JSON), e.g. data/service_directory.sample.json."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except FileNotFoundError:
        raise DirectoryError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise DirectoryError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    except UnicodeDecodeError:
        raise DirectoryError(f"{path}: not UTF-8 text") from None
    try:
        directory = import_oruk(data, config, taxonomy_map)
    except DirectoryError as error:
        raise DirectoryError(f"{path}: {error}") from None
    return replace(directory, source_bytes=raw)


def import_oruk(data: Any, config=None, taxonomy_map: Mapping[str, str] | None = None) -> Directory:
    """A Directory from Open Referral UK / HSDS JSON, as a council publishes it.

    Accepted shapes: a list of services; an API page ({"content": [...]} in ORUK,
    {"contents": [...]} in HSDS 3); {"services": [...]}, optionally with the related tables
    beside it (organizations, taxonomy/taxonomy_terms, service_taxonomys/attributes,
    service_areas, locations, service_at_locations); or one service. Nested objects win over
    tables. `config` (the service's Config) turns area and place names into locality ids;
    without it an area name is read as a locality id ("South Kent Coast" -> south_kent_coast).
    `taxonomy_map` maps a council's own term codes or names (lower case) to need codes.

    Services that can't be used (no id or name, inactive, no term meaning a need, no area in
    a configured locality) are skipped and listed in `Directory.skipped` with the reason;
    if none is usable, DirectoryError says why.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as error:
            raise DirectoryError(f"not valid JSON ({error.msg}, line {error.lineno})") from None
    services, tables, note = _unwrap(data)
    mapping = {str(k).strip().lower(): v for k, v in (taxonomy_map or {}).items()}
    bad = {k: v for k, v in mapping.items() if v not in need_codes()}
    if bad:
        raise DirectoryError(f"taxonomy_map maps to unknown need code(s): {', '.join(sorted(set(bad.values())))}; "
                             f"allowed: {', '.join(need_codes())}")
    usable: list[Service] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, raw in enumerate(services):
        label = f"service #{position + 1}"
        if not isinstance(raw, dict):
            skipped.append((label, f"not an object (got {type(raw).__name__})"))
            continue
        service_id = raw.get("id")
        label = f"service {service_id!r}" if service_id not in (None, "") else label
        try:
            service = _service(raw, tables, config, mapping)
        except _Skip as reason:
            skipped.append((label, str(reason)))
            continue
        if service.id in seen:
            skipped.append((label, "duplicate id"))
            continue
        seen.add(service.id)
        usable.append(service)
    if not usable:
        reasons = "; ".join(f"{where}: {why}" for where, why in skipped[:5]) or "the list of services is empty"
        more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
        raise DirectoryError(f"no usable service in the directory: {reasons}{more}")
    source = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return Directory.build(usable, skipped, note, source)


class _Skip(Exception):
    """One service can't be used; the reason goes into Directory.skipped."""


def _unwrap(data: Any) -> tuple[list, dict, str]:
    if isinstance(data, list):
        return data, {}, ""
    if not isinstance(data, dict):
        raise DirectoryError(f"expected ORUK/HSDS JSON: a list of services or an object, got {type(data).__name__}")
    note = str(data.get("note") or "")
    for key in LIST_KEYS:
        if isinstance(data.get(key), list):
            return data[key], data, note
    if data.get("id") is not None and data.get("name"):
        return [data], {}, note       # a single service, as /services/{id} returns it
    keys = ", ".join(sorted(map(str, data))[:8]) or "none"
    raise DirectoryError("expected ORUK/HSDS JSON: a list of services, or an object with one of "
                         f"{', '.join(repr(k) for k in LIST_KEYS)} holding a list (found keys: {keys})")


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _service(raw: dict, tables: dict, config, mapping: Mapping[str, str]) -> Service:
    service_id = raw.get("id")
    if service_id in (None, "") or not isinstance(service_id, (str, int)):
        raise _Skip("no id")
    name = _text(raw.get("name"))
    if not name:
        raise _Skip("no name")
    status = _text(raw.get("status")).lower()
    if status in INACTIVE:
        raise _Skip(f"status is {status!r}")
    needs = sorted({need for term in _terms(raw, tables) for need in _needs_of(term, mapping)},
                   key=need_codes().index)
    if not needs:
        raise _Skip("no taxonomy term that means a need we refer for "
                    f"(terms: {', '.join(t['name'] or t['code'] for t in _terms(raw, tables)) or 'none'})")
    places = _places(raw, tables)
    localities: list[str] = []
    for place in places:
        for locality in _localities_of(place, config):
            if locality not in localities:
                localities.append(locality)
    if not localities:
        raise _Skip(f"no service area in a configured locality (areas: {', '.join(places) or 'none'})")
    return Service(id=str(service_id), name=name, organization=_organization(raw, tables),
                   needs=tuple(needs), localities=tuple(localities),
                   description=_text(raw.get("description")), url=_text(raw.get("url")),
                   email=_text(raw.get("email")))


def _rows(tables: dict, *names: str) -> list[dict]:
    for name in names:
        rows = tables.get(name)
        if isinstance(rows, list):
            return [row for row in rows if isinstance(row, dict)]
    return []


def _organization(raw: dict, tables: dict) -> str:
    nested = raw.get("organization")
    if isinstance(nested, dict) and _text(nested.get("name")):
        return _text(nested["name"])
    if isinstance(nested, str) and nested.strip():
        return _text(nested)
    org_id = raw.get("organization_id")
    for org in _rows(tables, "organizations", "organization"):
        if org_id is not None and org.get("id") == org_id:
            return _text(org.get("name"))
    return ""


def _term(value: Any) -> dict | None:
    if not isinstance(value, dict):
        return None
    code = value.get("code") or value.get("id") or ""
    name = value.get("name") or value.get("term") or ""
    vocabulary = value.get("vocabulary") or value.get("taxonomy") or ""
    return {"code": str(code).strip(), "name": _text(str(name)),
            "vocabulary": vocabulary if isinstance(vocabulary, str) else ""}


def _terms(raw: dict, tables: dict) -> list[dict]:
    """The service's taxonomy terms, from nested ORUK/HSDS objects or from the tables."""
    terms: list[dict] = []
    for link in raw.get("service_taxonomys") or raw.get("service_taxonomy") or []:
        if isinstance(link, dict):
            terms.append(_term(link.get("taxonomy") or link.get("taxonomy_term") or link))
    for attribute in raw.get("attributes") or []:
        if isinstance(attribute, dict):
            terms.append(_term(attribute.get("taxonomy_term") or attribute))
    for value in raw.get("taxonomy_terms") or []:
        terms.append(_term(value))
    if not any(terms) and tables:
        by_id = {row.get("id"): row for row in _rows(tables, "taxonomy_terms", "taxonomys", "taxonomy", "taxonomies")}
        service_id = raw.get("id")
        for link in _rows(tables, "service_taxonomys", "service_taxonomy", "attributes"):
            if link.get("service_id", link.get("link_id")) == service_id:
                term_id = link.get("taxonomy_id", link.get("taxonomy_term_id"))
                terms.append(_term(link.get("taxonomy") or link.get("taxonomy_term") or by_id.get(term_id)))
    return [term for term in terms if term and (term["code"] or term["name"])]


def _needs_of(term: dict, mapping: Mapping[str, str]) -> set[str]:
    code, name = term["code"].lower(), term["name"].lower()
    for key in (code, name):
        if key in mapping:
            return {mapping[key]}
    if code in need_codes():
        return {code}
    if name.replace(" ", "_") in need_codes():
        return {name.replace(" ", "_")}
    found = set()
    for need, words in NEED_KEYWORDS.items():
        for word in words:
            if re.search(r"(?<![a-z])" + re.escape(word), name):
                found.add(need)
                break
    return found


def _places(raw: dict, tables: dict) -> list[str]:
    """Area and place names: service areas first, then where the service is delivered."""
    places: list[str] = []
    areas = raw.get("service_areas")
    if areas is None and tables:
        areas = [row for row in _rows(tables, "service_areas", "service_area") if row.get("service_id") == raw.get("id")]
    for area in areas or []:
        if isinstance(area, str):
            places.append(area)
        elif isinstance(area, dict):
            places.append(_text(area.get("service_area") or area.get("name") or area.get("description")))
    links = raw.get("service_at_locations")
    if links is None and tables:
        links = [row for row in _rows(tables, "service_at_locations", "service_at_location")
                 if row.get("service_id") == raw.get("id")]
    locations = {row.get("id"): row for row in _rows(tables, "locations", "location")}
    addresses = _rows(tables, "physical_addresses", "physical_address")
    for link in links or []:
        if not isinstance(link, dict):
            continue
        location = link.get("location") if isinstance(link.get("location"), dict) else locations.get(link.get("location_id"))
        if not isinstance(location, dict):
            continue
        rows = location.get("physical_addresses") or location.get("addresses") \
            or [a for a in addresses if a.get("location_id") == location.get("id")]
        for address in rows if isinstance(rows, list) else [rows]:
            if isinstance(address, dict):
                for key in ("city", "address_2", "address_1", "region", "state_province"):
                    places.append(_text(address.get(key)))
        places.append(_text(location.get("name")))
    return [place for place in places if place]


def _localities_of(place: str, config) -> list[str]:
    if config is None:
        locality = re.sub(r"[^a-z0-9]+", "_", re.sub(r"\band\b|&", " ", place.lower())).strip("_")
        return [locality] if locality else []
    if place.strip().lower() in COUNTY_WIDE:
        return list(config.localities)
    locality = config.locality_for_place(place)
    return [locality] if locality else []
