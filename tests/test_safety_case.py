"""The clinical safety case: the hazard log as data, its DCB0129 matrix, its ties to the tests,
and the report made from a test run (docs/safety/hazards.yml, spoa/safety/)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from spoa.safety import coverage, hazard_log, report

ROOT = Path(__file__).resolve().parent.parent
LOG_PATH = ROOT / "docs" / "safety" / "hazards.yml"


@pytest.fixture(scope="module")
def log():
    return hazard_log.load(LOG_PATH)


@pytest.fixture(scope="module")
def marked_tests():
    return coverage.collect(ROOT / "tests", ROOT)


# -- the matrix -------------------------------------------------------------------------------

@pytest.mark.parametrize("severity, likelihood, level", [
    ("Catastrophic", "Very high", 5), ("Catastrophic", "Very low", 3), ("Minor", "Very high", 3),
    ("Minor", "Very low", 1), ("Major", "Medium", 3), ("Considerable", "Low", 2), ("Significant", "High", 3),
    ("Major", "High", 4), ("Catastrophic", "Medium", 4), ("Significant", "Very low", 1),
])
def test_risk_is_looked_up_in_the_dcb0129_matrix(severity, likelihood, level):
    assert hazard_log.risk(severity, likelihood) == level


def test_risk_is_a_table_lookup_not_a_product():
    # A very unlikely catastrophe and a very likely minor harm rank the same (3), where a
    # product of the two scales would give 5 and 5 only by accident of numbering.
    assert hazard_log.risk("Catastrophic", "Very low") == hazard_log.risk("Minor", "Very high") == 3
    assert hazard_log.risk("Major", "Low") == 3 and hazard_log.risk("Significant", "Medium") == 2


def test_every_cell_of_the_matrix_is_between_1_and_5_and_rises_with_severity_and_likelihood():
    for likelihood in hazard_log.LIKELIHOODS:
        row = [hazard_log.risk(severity, likelihood) for severity in hazard_log.SEVERITIES]
        assert row == sorted(row) and all(1 <= level <= 5 for level in row)
    for severity in hazard_log.SEVERITIES:
        column = [hazard_log.risk(severity, likelihood) for likelihood in hazard_log.LIKELIHOODS]
        assert column == sorted(column)


def test_an_unknown_severity_or_likelihood_is_refused():
    with pytest.raises(ValueError, match="severity"):
        hazard_log.risk("Severe", "Low")
    with pytest.raises(ValueError, match="likelihood"):
        hazard_log.risk("Major", "Rare")


# -- the log itself ---------------------------------------------------------------------------

def test_the_hazard_log_is_consistent_with_the_matrix(log):
    assert hazard_log.problems(log) == []


def test_the_hazard_log_covers_the_known_hazards(log):
    titles = " | ".join(hazard.title.lower() for hazard in log.hazards)
    for words in ("missed emergency", "extraction", "partial list", "place name", "unclosed call", "duplicate",
                  "rasa", "locality or team", "consent", "out of hours", "target", "without a person",
                  "personal data", "audit trail", "without replay", "service directory", "can't use the chat"):
        assert words in titles, f"no hazard about {words!r}"


def test_a_stated_risk_that_disagrees_with_the_matrix_is_reported(log):
    data = {"system": "x", "version": "1", "hazards": [{
        "id": "HAZ-900", "title": "t", "causes": ["c"], "effect": "e", "harm": "h",
        "initial": {"severity": "Major", "likelihood": "Medium", "risk": 4},
        "residual": {"severity": "Major", "likelihood": "Low", "risk": 3},
        "controls": [{"id": "HAZ-900-C1", "kind": "design", "text": "x", "tests": []}],
        "status": "open", "owner": "o"}]}
    assert any("initial risk is 4 but the matrix gives 3" in p for p in hazard_log.problems(hazard_log.parse(data)))


# -- the ties between controls and tests ------------------------------------------------------

def test_every_closed_hazard_is_verified_by_tests_that_exist_and_carry_its_marker(log, marked_tests):
    assert [str(gap) for gap in coverage.gaps(log, marked_tests)] == []


def _one_hazard(status: str, tests: list[str], kind: str = "design", evidence: str | None = None):
    return hazard_log.parse({"system": "x", "version": "1", "hazards": [{
        "id": "HAZ-901", "title": "t", "causes": ["c"], "effect": "e", "harm": "h",
        "initial": {"severity": "Major", "likelihood": "Medium", "risk": 3},
        "residual": {"severity": "Major", "likelihood": "Low", "risk": 3},
        "controls": [{"id": "HAZ-901-C1", "kind": kind, "text": "x", "tests": tests, "evidence": evidence}],
        "status": status, "owner": "o"}]})


def test_a_closed_hazard_with_an_untested_design_control_is_a_gap():
    gaps = coverage.gaps(_one_hazard("closed", []), {})
    assert [gap.control for gap in gaps] == ["HAZ-901-C1"] and "no verifying test" in gaps[0].problem


def test_an_open_hazard_with_an_untested_control_is_not_yet_a_gap():
    assert coverage.gaps(_one_hazard("open", []), {}) == []


def test_a_control_naming_a_test_that_does_not_exist_is_a_gap():
    gaps = coverage.gaps(_one_hazard("open", ["tests/test_nothing.py::test_gone"]), {})
    assert len(gaps) == 1 and "does not exist" in gaps[0].problem


def test_a_control_naming_an_unmarked_test_is_a_gap():
    test = "tests/test_x.py::test_y"
    assert "not marked" in coverage.gaps(_one_hazard("closed", [test]), {test: set()})[0].problem
    assert coverage.gaps(_one_hazard("closed", [test]), {test: {"HAZ-901"}}) == []


def test_a_closed_process_control_needs_evidence_not_tests():
    assert "no evidence" in coverage.gaps(_one_hazard("closed", [], kind="process"), {})[0].problem
    assert coverage.gaps(_one_hazard("closed", [], kind="process", evidence="docs/x.md"), {}) == []


def test_markers_are_read_from_decorators_classes_and_the_module(tmp_path):
    source = tmp_path / "tests" / "test_sample.py"
    source.parent.mkdir()
    source.write_text(
        "import pytest\n"
        "pytestmark = [pytest.mark.browser, pytest.mark.hazard('HAZ-002')]\n"
        "@pytest.mark.hazard('HAZ-001', 'HAZ-003')\n"
        "@pytest.mark.parametrize('x', [1])\n"
        "def test_a(x): pass\n"
        "class TestGroup:\n"
        "    @pytest.mark.hazard('HAZ-004')\n"
        "    def test_b(self): pass\n"
        "def helper(): pass\n")
    found = coverage.markers_in(source, tmp_path)
    assert found == {"tests/test_sample.py::test_a": {"HAZ-001", "HAZ-002", "HAZ-003"},
                     "tests/test_sample.py::TestGroup::test_b": {"HAZ-002", "HAZ-004"}}


# -- the report -------------------------------------------------------------------------------

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_x" name="test_y[sqlite]"/>
<testcase classname="tests.test_x" name="test_y[postgresql]"><failure message="boom"/></testcase>
<testcase classname="tests.test_x" name="test_z"/>
<testcase classname="tests.test_x.TestGroup" name="test_w"><skipped/></testcase>
</testsuite></testsuites>"""


def test_junit_results_fold_parameters_and_a_single_failure_fails_the_test(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    assert report.read_junit(path) == {"tests/test_x.py::test_y": "failed", "tests/test_x.py::test_z": "passed",
                                       "tests/test_x.py::TestGroup::test_w": "skipped"}


def test_the_report_shows_each_hazard_s_risk_before_and_after_and_its_tests_results(log):
    test = log.hazards[0].controls[0].tests[0]
    markdown, html = report.render(log, {test: "failed"}, junit="reports/junit.xml",
                                   made=datetime(2026, 11, 29, tzinfo=timezone.utc))
    first = log.hazards[0]
    assert f"| {first.id} | {first.title} | {first.initial_risk} | {first.residual_risk} |" in markdown
    assert f"`{test}` (failed)" in markdown and "## Needs attention" in markdown
    assert "not run" in markdown  # tests absent from the run are never counted as passing
    assert f'id="{first.id}"' in html and "<script" not in html


def test_spoa_safety_report_writes_markdown_and_html(tmp_path):
    from spoa.cli import main

    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    result = CliRunner().invoke(main, ["safety", "report", "--junit", str(junit), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "safety-case.md").read_text().startswith("# Clinical safety case report")
    assert "<table>" in (tmp_path / "out" / "safety-case.html").read_text()


def test_spoa_safety_check_passes_on_the_committed_log():
    from spoa.cli import main

    result = CliRunner().invoke(main, ["safety", "check"])
    assert result.exit_code == 0, result.output
