"""The safety case report (Markdown and HTML) from the hazard log and a JUnit XML test run.

For each hazard: its causes, effect and harm, its risk before and after its controls, and each
control with the tests that verify it and how they fared in the run. A hazard whose control's
test failed, or did not run, is called out: the report never says more than the evidence.
"""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment

from .hazard_log import RISK_MEANING, HazardLog

PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"


def read_junit(path: str | Path) -> dict[str, str]:
    """Test node id (tests/test_x.py::test_y, parameters folded) -> passed/failed/skipped."""
    results: dict[str, list[str]] = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        node = _node_id(classname, name.split("[", 1)[0])
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = FAILED
        elif case.find("skipped") is not None:
            outcome = SKIPPED
        else:
            outcome = PASSED
        results.setdefault(node, []).append(outcome)
    return {node: _fold(outcomes) for node, outcomes in results.items()}


def _node_id(classname: str, name: str) -> str:
    parts = classname.split(".")
    # tests.test_x or tests.test_x.TestClass: the module is the path up to the test_ file.
    index = max((i for i, part in enumerate(parts) if part.startswith("test_")), default=len(parts) - 1)
    path = "/".join(parts[: index + 1]) + ".py"
    return "::".join([path, *parts[index + 1:], name])


def _fold(outcomes: list[str]) -> str:
    if FAILED in outcomes:
        return FAILED
    if all(outcome == SKIPPED for outcome in outcomes):
        return SKIPPED
    return PASSED


@dataclass(frozen=True)
class Row:
    hazard_id: str
    title: str
    initial: int
    residual: int
    status: str
    verified: int
    tested_controls: int
    failing: tuple[str, ...]


def summarise(log: HazardLog, results: dict[str, str]) -> list[Row]:
    rows = []
    for hazard in log.hazards:
        tested = [control for control in hazard.controls if control.tests]
        verified = [control for control in tested if all(results.get(t) == PASSED for t in control.tests)]
        failing = tuple(t for control in tested for t in control.tests if results.get(t, NOT_RUN) != PASSED)
        rows.append(Row(hazard.id, hazard.title, hazard.initial_risk, hazard.residual_risk, hazard.status,
                        len(verified), len(tested), failing))
    return rows


_MARKDOWN = """# Clinical safety case report: {{ log.system }}

Hazard log version {{ log.version }}; report made {{ made }} from the test run in `{{ junit }}`
({{ totals.passed }} tests passed, {{ totals.failed }} failed, {{ totals.skipped }} skipped; each parametrised test counted once).

Prepared under DCB0129 (clinical risk management in the manufacture of health IT systems).
**Clinical safety officer:** {{ log.safety_officer }}. This report is evidence for the CSO's
review; it is not signed until the CSO signs it.

Risk levels are from the DCB0129 matrix: {% for level, meaning in meanings.items() %}{{ level }} {{ meaning }}{% if not loop.last %}; {% endif %}{% endfor %}.

## Summary

| Hazard | Title | Risk before | Risk after | Status | Controls verified by passing tests |
|---|---|---|---|---|---|
{% for row in rows -%}
| {{ row.hazard_id }} | {{ row.title }} | {{ row.initial }} | {{ row.residual }} | {{ row.status }} | {{ row.verified }} of {{ row.tested_controls }}{% if row.failing %} (**{{ row.failing|length }} test(s) not passing**){% endif %} |
{% endfor %}
{% if attention %}
## Needs attention

{% for row in attention -%}
- {{ row.hazard_id }} {{ row.title }}: {% if row.status != "closed" %}status {{ row.status }}{% endif %}{% if row.status != "closed" and row.failing %}; {% endif %}{% if row.failing %}not passing: {{ row.failing|join(", ") }}{% endif %}
{% endfor %}{% endif %}
{% for hazard in log.hazards %}
## {{ hazard.id }} {{ hazard.title }}

- **Causes:** {{ hazard.causes|join("; ") }}
- **Effect:** {{ hazard.effect }}
- **Possible harm:** {{ hazard.harm }}
- **Initial risk:** {{ hazard.initial.severity }} / {{ hazard.initial.likelihood }} = **{{ hazard.initial_risk }}**
- **Residual risk:** {{ hazard.residual.severity }} / {{ hazard.residual.likelihood }} = **{{ hazard.residual_risk }}**
- **Status:** {{ hazard.status }}; **owner:** {{ hazard.owner }}
{% if hazard.note %}- **Note:** {{ hazard.note }}
{% endif %}
| Control | Kind | What it does | Verified by |
|---|---|---|---|
{% for control in hazard.controls -%}
| {{ control.id }} | {{ control.kind }} | {{ control.text }} | {% for test in control.tests %}`{{ test }}` ({{ results.get(test, "not run") }}){% if not loop.last %}<br>{% endif %}{% endfor %}{% if control.evidence %}{% if control.tests %}<br>{% endif %}evidence: {{ control.evidence }}{% endif %} |
{% endfor %}
{% endfor %}"""

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinical safety case report: {{ log.system }}</title>
<style>body{font-family:Arial,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#212b32}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #d8dde0;padding:.4rem;text-align:left;vertical-align:top}
th{background:#f0f4f5}.failed,.not-run{color:#d5281b;font-weight:bold}.passed{color:#007f3b}.risk-4,.risk-5{background:#fde8e6}</style></head>
<body><main>
<h1>Clinical safety case report: {{ log.system }}</h1>
<p>Hazard log version {{ log.version }}; report made {{ made }} from the test run in <code>{{ junit }}</code>
({{ totals.passed }} tests passed, {{ totals.failed }} failed, {{ totals.skipped }} skipped; each parametrised test counted once).</p>
<p>Prepared under DCB0129. <strong>Clinical safety officer:</strong> {{ log.safety_officer }}.
This report is evidence for the CSO's review; it is not signed until the CSO signs it.</p>
<h2>Summary</h2>
<table><caption>Hazards, their risk before and after their controls (DCB0129 matrix, 1 to 5)</caption>
<thead><tr><th scope="col">Hazard</th><th scope="col">Title</th><th scope="col">Risk before</th><th scope="col">Risk after</th><th scope="col">Status</th><th scope="col">Controls verified</th></tr></thead>
<tbody>{% for row in rows %}<tr class="risk-{{ row.residual }}"><td><a href="#{{ row.hazard_id }}">{{ row.hazard_id }}</a></td><td>{{ row.title }}</td><td>{{ row.initial }}</td><td>{{ row.residual }}</td><td>{{ row.status }}</td>
<td>{{ row.verified }} of {{ row.tested_controls }}{% if row.failing %} <span class="failed">({{ row.failing|length }} not passing)</span>{% endif %}</td></tr>{% endfor %}</tbody></table>
{% for hazard in log.hazards %}
<section id="{{ hazard.id }}"><h2>{{ hazard.id }} {{ hazard.title }}</h2>
<dl><dt>Causes</dt><dd>{{ hazard.causes|join("; ") }}</dd><dt>Effect</dt><dd>{{ hazard.effect }}</dd>
<dt>Possible harm</dt><dd>{{ hazard.harm }}</dd>
<dt>Initial risk</dt><dd>{{ hazard.initial.severity }} / {{ hazard.initial.likelihood }} = <strong>{{ hazard.initial_risk }}</strong></dd>
<dt>Residual risk</dt><dd>{{ hazard.residual.severity }} / {{ hazard.residual.likelihood }} = <strong>{{ hazard.residual_risk }}</strong></dd>
<dt>Status</dt><dd>{{ hazard.status }} (owner: {{ hazard.owner }})</dd>{% if hazard.note %}<dt>Note</dt><dd>{{ hazard.note }}</dd>{% endif %}</dl>
<table><caption>Controls of {{ hazard.id }}</caption><thead><tr><th scope="col">Control</th><th scope="col">Kind</th><th scope="col">What it does</th><th scope="col">Verified by</th></tr></thead><tbody>
{% for control in hazard.controls %}<tr><td>{{ control.id }}</td><td>{{ control.kind }}</td><td>{{ control.text }}</td><td><ul>
{% for test in control.tests %}{% set outcome = results.get(test, "not run") %}<li><code>{{ test }}</code> <span class="{{ outcome|replace(' ', '-') }}">{{ outcome }}</span></li>{% endfor %}
{% if control.evidence %}<li>evidence: {{ control.evidence }}</li>{% endif %}</ul></td></tr>{% endfor %}
</tbody></table></section>{% endfor %}
</main></body></html>
"""


def render(log: HazardLog, results: dict[str, str], *, junit: str, made: datetime) -> tuple[str, str]:
    """(markdown, html) of the safety case report."""
    rows = summarise(log, results)
    counts = Counter(results.values())
    context = {"log": log, "rows": rows, "results": results, "junit": junit,
               "made": made.strftime("%Y-%m-%d %H:%M %Z").strip(), "meanings": RISK_MEANING,
               "totals": {"passed": counts[PASSED], "failed": counts[FAILED], "skipped": counts[SKIPPED]},
               "attention": [row for row in rows if row.status != "closed" or row.failing]}
    markdown = Environment(autoescape=False, trim_blocks=False).from_string(_MARKDOWN).render(context)
    html = Environment(autoescape=True).from_string(_HTML).render(context)
    return markdown, html
