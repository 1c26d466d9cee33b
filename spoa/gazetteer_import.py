"""Build a gazetteer (data/places/ shape) from the ONS files, so a deployment elsewhere loads its own area.

Inputs, both as the ONS publishes them (CSV with a header row; columns found by name, so the
year in the column names does not matter: place22nm or place15nm, lad23cd or lad22cd):
- the ONS Index of Place Names in Great Britain (IPN): one row per place name, with its kind
  (`descnm`: LOC locality, PAR parish, BUA/BUASD built-up area...) and its local authority
  district (`ladNNcd`, `ladNNnm`) and parish code (`parNNcd`);
- the ONS Postcode Directory (ONSPD): one row per postcode (`pcds`, "CT1 2AB"), its local
  authority district (`oslaua`), parish (`parish`) and date of termination (`doterm`, empty
  while in use).
And an areas file (YAML, e.g. data/places/kent_areas.yml) saying which districts (by ONS code)
make each configured locality, which parishes or places of a district go to another locality,
and which neighbouring districts are outside, with their council.

Outputs: places.csv and postcode_districts.csv for spoa/gazetteer.py. A postcode district all
of whose live postcodes lie in one locality (or one outside council) maps to it; a district
shared by two gets one row per target (ambiguous), plus a row per postcode sector, so a full
postcode in a sector that lies in one area still resolves. Pure: rows in, rows out; the CLI
(`spoa gazetteer import`) reads and writes the files.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from spoa.postcodes import read_postcode

# IPN place kinds that are places a person would name (not wards, constituencies, forests...).
IPN_KINDS = {"LOC": "village", "PAR": "parish", "BUA": "town", "BUASD": "town"}
PLACES_COLUMNS = ("name", "alternative_names", "kind", "district", "locality", "council")
POSTCODE_COLUMNS = ("postcode", "locality", "area", "council", "note")


class GazetteerImportError(ValueError):
    """An input file is not in the ONS shape, or the areas file is incomplete."""


@dataclass(frozen=True)
class Target:
    locality: str | None      # a configured locality id, or None outside
    area: str                 # district or outside area name
    council: str


@dataclass(frozen=True)
class Areas:
    """Which districts make which locality, and which neighbours are outside (the areas file)."""

    inside_council: str
    districts: Mapping[str, Mapping[str, Any]]      # LAD code -> {name, locality}
    exceptions: Mapping[str, Mapping[str, str]]     # LAD code -> {parish code or place name: locality}
    outside: Mapping[str, Mapping[str, str]]        # LAD code -> {name, council}

    def target(self, lad: str, parish: str = "", place: str = "") -> Target | None:
        if lad in self.districts:
            district = self.districts[lad]
            special = self.exceptions.get(lad, {})
            locality = special.get(parish) or special.get(place) or district["locality"]
            return Target(locality, district["name"], self.inside_council)
        if lad in self.outside:
            return Target(None, self.outside[lad]["name"], self.outside[lad]["council"])
        return None


def load_areas(path: str | Path) -> Areas:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        return Areas(inside_council=data["inside_council"], districts=data["districts"],
                     exceptions=data.get("exceptions") or {}, outside=data.get("outside") or {})
    except (KeyError, TypeError) as error:
        raise GazetteerImportError(f"{path}: an areas file needs inside_council, districts (and outside): {error}") from None


def _column(header: Iterable[str], pattern: str, file: str) -> str:
    for name in header:
        if re.fullmatch(pattern, name.strip().lower()):
            return name
    raise GazetteerImportError(f"{file}: no column matching {pattern!r} (is it the ONS file?)")


def places_from_ipn(rows: Iterable[Mapping[str, str]], areas: Areas, file: str = "IPN") -> list[dict]:
    """places.csv rows from the IPN's rows: its area's places and the neighbours' (outside)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return []
    header = list(first)
    name_col, kind_col = _column(header, r"place\d\dnm", file), _column(header, r"descnm", file)
    lad_col = _column(header, r"lad\d\dcd", file)
    parish_col = next((h for h in header if re.fullmatch(r"par\d\dcd", h.strip().lower())), None)
    seen, out = set(), []
    for row in [first, *rows]:
        kind = IPN_KINDS.get((row.get(kind_col) or "").strip().upper())
        name = (row.get(name_col) or "").strip()
        target = areas.target((row.get(lad_col) or "").strip(), (row.get(parish_col) or "").strip()
                              if parish_col else "", name)
        if not kind or not name or target is None or (name, target) in seen:
            continue
        seen.add((name, target))
        out.append({"name": name, "alternative_names": "", "kind": kind, "district": target.area,
                    "locality": target.locality or "", "council": target.council})
    return out


def with_parish_codes(ipn_rows: Iterable[Mapping[str, str]], areas: Areas, file: str = "IPN") -> Areas:
    """The areas file's exceptions, also by ONS parish code: the ONSPD names a postcode's parish
    only by code, so a place named in the exceptions lends its locality to its parish's code."""
    rows = list(ipn_rows)
    if not rows or not areas.exceptions:
        return areas
    header = list(rows[0])
    name_col, lad_col = _column(header, r"place\d\dnm", file), _column(header, r"lad\d\dcd", file)
    parish_col = next((h for h in header if re.fullmatch(r"par\d\dcd", h.strip().lower())), None)
    if parish_col is None:
        return areas
    exceptions = {lad: dict(names) for lad, names in areas.exceptions.items()}
    for row in rows:
        lad, name, parish = (row.get(lad_col) or "").strip(), (row.get(name_col) or "").strip(), (row.get(parish_col) or "").strip()
        if parish and name in exceptions.get(lad, {}):
            exceptions[lad].setdefault(parish, exceptions[lad][name])
    return replace(areas, exceptions=exceptions)


def postcode_districts_from_onspd(rows: Iterable[Mapping[str, str]], areas: Areas, file: str = "ONSPD") -> list[dict]:
    """postcode_districts.csv rows from the ONSPD's live postcodes in the area and its neighbours."""
    by_outward: dict[str, set[Target]] = {}
    by_sector: dict[str, set[Target]] = {}
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return []
    header = list(first)
    postcode_col = _column(header, r"pcds|pcd2?|postcode", file)
    lad_col = _column(header, r"oslaua|lad\d\dcd", file)
    parish_col = next((h for h in header if h.strip().lower() in ("parish", "par")), None)
    end_col = next((h for h in header if h.strip().lower() == "doterm"), None)
    for row in [first, *rows]:
        if end_col and (row.get(end_col) or "").strip():
            continue                                   # terminated postcode
        postcode = read_postcode(row.get(postcode_col))
        target = areas.target((row.get(lad_col) or "").strip(), (row.get(parish_col) or "").strip() if parish_col else "")
        if postcode is None or target is None:
            continue
        by_outward.setdefault(postcode.outward, set()).add(target)
        by_sector.setdefault(postcode.sector, set()).add(target)
    out = []
    for outward in sorted(by_outward, key=_postcode_order):
        targets = by_outward[outward]
        out += [_postcode_row(outward, target) for target in sorted(targets, key=_target_order)]
        if len(targets) > 1:
            for sector in sorted((s for s in by_sector if s.split(" ")[0] == outward), key=_postcode_order):
                out += [_postcode_row(sector, target) for target in sorted(by_sector[sector], key=_target_order)]
    return out


def _postcode_row(code: str, target: Target) -> dict:
    return {"postcode": code, "locality": target.locality or "", "area": target.area, "council": target.council,
            "note": "from the ONS Postcode Directory"}


def _postcode_order(code: str) -> tuple:
    match = re.match(r"([A-Z]+)(\d+)(\S*)\s?(\d?)", code)
    return (match.group(1), int(match.group(2)), match.group(3), match.group(4)) if match else (code,)


def _target_order(target: Target) -> tuple:
    return (target.locality or "", target.area, target.council)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict]:
    # ONS files are UTF-8, sometimes with a byte-order mark
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))
