"""The rulebook as a whole: every rule and flow file loads, ids are unique, every name used
exists, every rule cites its source, every rule has a positive and a negative scenario test,
and the loader refuses broken rule files with a message naming the file and rule."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml

from engine_helpers import RULES_DIR, get_triage
from spoa.config import load_config
from spoa.flows import load_flows
from spoa.rulebook import RulebookError, load_rulebook
from spoa.vocabulary import facts, pathways, routes

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
RULE_FILES = sorted(p for p in RULES_DIR.glob("*.yml") if p.name != "facts.yml")
GROUPS = {"SCOPE", "EMERG", "MH", "UCR", "SAFE", "MDT", "VCS", "SELF", "FAILSAFE"}


def raw_rules():
    for path in RULE_FILES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in document["rules"]:
            yield path, document, rule


def walk_conditions(node):
    if isinstance(node, dict):
        for key in ("all", "any"):
            if key in node:
                for item in node[key]:
                    yield from walk_conditions(item)
                return
        yield node


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "config.yml")


# --- the files as they are -------------------------------------------------------------------

def test_there_is_one_rule_file_per_protocol_group():
    groups = {yaml.safe_load(p.read_text(encoding="utf-8"))["group"] for p in RULE_FILES}
    assert groups == GROUPS


def test_every_rule_and_flow_file_loads(config):
    rulebook = load_rulebook(RULES_DIR, config)
    assert sorted(rule.id for rule in rulebook.rules) == sorted(r["id"] for _, _, r in raw_rules() if r["status"] == "active")
    flows = load_flows(ROOT / "flows")
    assert set(flows.by_fact) == set(facts())


def test_rule_ids_are_unique_and_carry_their_group():
    ids = [rule["id"] for _, _, rule in raw_rules()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for _, document, rule in raw_rules():
        assert rule["id"].startswith(document["group"] + "-"), rule["id"]


def test_every_fact_route_and_pathway_used_exists():
    for path, _, rule in raw_rules():
        for condition in walk_conditions(rule["when"]):
            if "fact" in condition:
                assert condition["fact"] in facts(), f"{path.name} {rule['id']}: {condition['fact']}"
        then = rule["then"]
        if "route" in then:
            assert then["route"] in routes(), f"{path.name} {rule['id']}"
        if "pathway" in then:
            assert then["pathway"] in pathways(), f"{path.name} {rule['id']}"


def test_every_rule_cites_the_protocol_and_its_public_source():
    for path, _, rule in raw_rules():
        assert rule.get("source", "").startswith("PROTOCOL.md"), f"{path.name} {rule['id']}: {rule.get('source')!r}"
        assert rule["version"] >= 1 and rule["status"] in ("active", "retired")


def test_every_route_of_the_protocol_is_reachable_by_some_rule():
    decided = {rule["then"].get("route") for _, _, rule in raw_rules()} - {None}
    assert decided == set(routes())


def test_the_engine_was_compiled_from_these_files():
    ruleset = get_triage().ruleset
    assert {rule.id for rule in ruleset.rulebook.rules} == {r["id"] for _, _, r in raw_rules() if r["status"] == "active"}
    assert ruleset.version.startswith("rs-")


# --- every rule has a positive and a negative scenario test --------------------------------

def declared_coverage() -> dict[str, set[bool]]:
    """Rule ids named by `@covers(..., positive=...)` on the scenario tests, parsed from source."""
    found: dict[str, set[bool]] = {}
    for path in sorted(TESTS.glob("test_rules_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "covers":
                    positive = next(k.value.value for k in decorator.keywords if k.arg == "positive")
                    for arg in decorator.args:
                        found.setdefault(arg.value, set()).add(positive)
    return found


def test_every_rule_has_a_positive_and_a_negative_scenario_test():
    coverage = declared_coverage()
    ids = {rule["id"] for _, _, rule in raw_rules()}
    missing = {rule_id: sorted({"positive", "negative"} - {("positive" if p else "negative") for p in coverage.get(rule_id, set())})
               for rule_id in ids}
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"rules without scenario tests: {missing}"
    assert set(coverage) <= ids, f"tests cover rules that do not exist: {set(coverage) - ids}"


# --- the loader refuses broken rule files ----------------------------------------------------

@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def edit_rule(rules_dir: Path, filename: str, rule_id: str, change) -> None:
    path = rules_dir / filename
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule = next(r for r in document["rules"] if r["id"] == rule_id)
    change(rule, document)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def refusal(rules_dir: Path, config) -> str:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(rules_dir, config)
    return str(caught.value)


def test_copied_rules_load_unchanged(rules_copy, config):
    assert load_rulebook(rules_copy, config).version == load_rulebook(RULES_DIR, config).version


def test_loader_refuses_a_rule_without_a_source(rules_copy, config):
    edit_rule(rules_copy, "ucr.yml", "UCR-7", lambda rule, _: rule.pop("source"))
    message = refusal(rules_copy, config)
    assert "ucr.yml" in message and "UCR-7" in message and "source" in message


def test_loader_refuses_an_unknown_fact_and_suggests_the_nearest(rules_copy, config):
    edit_rule(rules_copy, "ucr.yml", "UCR-7", lambda rule, _: rule["when"]["all"].append({"fact": "catheter_problme", "is": True}))
    message = refusal(rules_copy, config)
    assert "ucr.yml" in message and "UCR-7" in message
    assert "unknown fact 'catheter_problme'" in message and "did you mean 'catheter_problem'" in message


def test_loader_refuses_an_unknown_route(rules_copy, config):
    edit_rule(rules_copy, "vcs.yml", "VCS-1", lambda rule, _: rule["then"].update(route="befriending_route"))
    message = refusal(rules_copy, config)
    assert "vcs.yml" in message and "VCS-1" in message and "unknown route 'befriending_route'" in message


def test_loader_refuses_an_unknown_pathway(rules_copy, config):
    edit_rule(rules_copy, "mdt.yml", "MDT-4", lambda rule, _: rule["then"].update(pathway="hospice"))
    message = refusal(rules_copy, config)
    assert "mdt.yml" in message and "MDT-4" in message and "unknown pathway 'hospice'" in message


def test_loader_refuses_a_duplicate_id_naming_both_files(rules_copy, config):
    edit_rule(rules_copy, "vcs.yml", "VCS-4", lambda rule, _: rule.update(id="UCR-9"))
    message = refusal(rules_copy, config)
    assert "UCR-9" in message and "duplicate id" in message
    assert "vcs.yml" in message and "ucr.yml" in message


def test_loader_refuses_a_value_the_fact_cannot_take(rules_copy, config):
    edit_rule(rules_copy, "emerg.yml", "EMERG-2", lambda rule, _: rule["when"]["any"].append({"fact": "fall_injury", "is": "catastrophic"}))
    message = refusal(rules_copy, config)
    assert "emerg.yml" in message and "EMERG-2" in message and "'catastrophic'" in message


def test_loader_refuses_a_derived_fact_no_rule_asserts(rules_copy, config):
    edit_rule(rules_copy, "mh.yml", "MH-2", lambda rule, _: rule["when"]["all"].append({"derived": "in_crisis"}))
    message = refusal(rules_copy, config)
    assert "mh.yml" in message and "MH-2" in message and "in_crisis" in message


def test_loader_refuses_a_file_that_is_not_yaml(rules_copy, config):
    (rules_copy / "vcs.yml").write_text("group: VCS\nrules: [\n", encoding="utf-8")
    message = refusal(rules_copy, config)
    assert "vcs.yml" in message and "not valid YAML" in message


def test_a_retired_rule_is_not_compiled(rules_copy, config):
    edit_rule(rules_copy, "vcs.yml", "VCS-1", lambda rule, _: rule.update(status="retired"))
    rulebook = load_rulebook(rules_copy, config)
    assert "VCS-1" not in {rule.id for rule in rulebook.rules}
    assert rulebook.version != load_rulebook(RULES_DIR, config).version, "the version is a hash of the files"
