"""The hazard log (docs/safety/hazards.yml) and the DCB0129 risk matrix.

Risk is looked up in the matrix of the DCB0129/DCB0160 implementation guidance, not multiplied:
a catastrophic harm that is very unlikely (3) still outranks a minor one that is very likely (3
too), where a product would rank them 5 and 5. The log states each risk level beside its
severity and likelihood so it reads on its own; `problems()` checks them against the matrix.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SEVERITIES = ("Minor", "Significant", "Considerable", "Major", "Catastrophic")
LIKELIHOODS = ("Very low", "Low", "Medium", "High", "Very high")
# Rows: likelihood; columns: severity (in SEVERITIES order).
MATRIX = {
    "Very high": (3, 4, 4, 5, 5),
    "High": (2, 3, 3, 4, 5),
    "Medium": (2, 2, 3, 3, 4),
    "Low": (1, 2, 2, 3, 4),
    "Very low": (1, 1, 2, 2, 3),
}
RISK_MEANING = {
    1: "Acceptable",
    2: "Acceptable where further risk reduction is impractical",
    3: "Undesirable: accepted only where further reduction is impractical",
    4: "Mandatory elimination or control to reduce risk to an acceptable level",
    5: "Unacceptable",
}
CONTROL_KINDS = ("design", "test", "process", "training")
TESTED_KINDS = ("design", "test")      # verified by automated tests; process and training by evidence
STATUSES = ("open", "closed", "transferred")


def risk(severity: str, likelihood: str) -> int:
    """The DCB0129 risk level (1-5) for a severity and likelihood, by table lookup."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}; got {severity!r}")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}; got {likelihood!r}")
    return MATRIX[likelihood][SEVERITIES.index(severity)]


@dataclass(frozen=True)
class Control:
    id: str
    kind: str
    text: str
    tests: tuple[str, ...]
    evidence: str | None


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    causes: tuple[str, ...]
    effect: str
    harm: str
    initial: dict[str, Any]
    residual: dict[str, Any]
    controls: tuple[Control, ...]
    status: str
    owner: str
    note: str | None = None

    @property
    def initial_risk(self) -> int:
        return risk(self.initial["severity"], self.initial["likelihood"])

    @property
    def residual_risk(self) -> int:
        return risk(self.residual["severity"], self.residual["likelihood"])


@dataclass(frozen=True)
class HazardLog:
    system: str
    version: str
    safety_officer: str
    hazards: tuple[Hazard, ...]

    def hazard(self, hazard_id: str) -> Hazard | None:
        return next((hazard for hazard in self.hazards if hazard.id == hazard_id), None)


def parse(data: dict[str, Any]) -> HazardLog:
    hazards = []
    for item in data.get("hazards") or []:
        controls = tuple(Control(id=c["id"], kind=c["kind"], text=c["text"], tests=tuple(c.get("tests") or ()),
                                 evidence=c.get("evidence")) for c in item.get("controls") or [])
        hazards.append(Hazard(id=item["id"], title=item["title"], causes=tuple(item.get("causes") or ()),
                              effect=item["effect"], harm=item["harm"], initial=dict(item["initial"]),
                              residual=dict(item["residual"]), controls=controls, status=item["status"],
                              owner=item["owner"], note=item.get("note")))
    return HazardLog(system=data["system"], version=str(data["version"]),
                     safety_officer=data.get("clinical_safety_officer", ""), hazards=tuple(hazards))


def load(path: str | Path) -> HazardLog:
    with open(path, encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle))


def problems(log: HazardLog) -> list[str]:
    """What is wrong with the log as data (ids, vocabularies, stated risk levels)."""
    found: list[str] = []
    seen: set[str] = set()
    for hazard in log.hazards:
        if hazard.id in seen:
            found.append(f"{hazard.id}: duplicate hazard id")
        seen.add(hazard.id)
        if hazard.status not in STATUSES:
            found.append(f"{hazard.id}: status must be one of {', '.join(STATUSES)}")
        levels = {}
        for stage in ("initial", "residual"):
            values = getattr(hazard, stage)
            try:
                levels[stage] = risk(values["severity"], values["likelihood"])
            except (KeyError, ValueError) as error:
                found.append(f"{hazard.id}: {stage}: {error}")
                continue
            if values.get("risk") != levels[stage]:
                found.append(f"{hazard.id}: {stage} risk is {values.get('risk')} but the matrix gives "
                             f"{levels[stage]} for {values['severity']} / {values['likelihood']}")
        if len(levels) == 2 and levels["residual"] > levels["initial"]:
            found.append(f"{hazard.id}: residual risk is higher than the initial risk")
        if not hazard.controls:
            found.append(f"{hazard.id}: no controls")
        for control in hazard.controls:
            if control.kind not in CONTROL_KINDS:
                found.append(f"{control.id}: kind must be one of {', '.join(CONTROL_KINDS)}")
            if not control.id.startswith(hazard.id + "-"):
                found.append(f"{control.id}: a control's id starts with its hazard's ({hazard.id}-...)")
    return found
