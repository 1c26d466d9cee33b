"""The durable-rules traps (issue 2, item 3), each shown handled by spoa/durable_adapter.py:
threads, the 1,024 open-session limit, strings compared with numbers, exceptions swallowed in
actions, and a ruleset name registered twice. Only the adapter imports durable-rules; these
tests reach the library through the adapter's host."""
from __future__ import annotations

import random
import shutil
import subprocess
import sys
import textwrap
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import yaml

from engine_helpers import NOW, ROOT, RULES_DIR, contact, examples, get_triage, load_example
from spoa import durable_adapter
from spoa.decide import decide
from spoa.config import load_config
from spoa.durable_adapter import EngineError, EngineInputError, EngineRuleset, compile_rulebook
from spoa.rulebook import load_rulebook

SCENARIOS = [
    {"chest_pain": True}, {"fallen": True}, {"fallen": True, "fall_injury": "serious"},
    {"suicidal_thoughts": True}, {"mental_health_crisis": True, "dementia": True},
    {"catheter_problem": True, "frailty_score": 6}, {"dementia": True, "abuse_types": ["financial"]},
    {"dementia": True, "abuse_types": ["financial"], "consent_to_safeguarding_referral": False},
    {"abuse_types": ["domestic"]}, {"long_term_conditions": ["copd", "asthma"], "admissions_12m": 3},
    {"lonely_or_isolated": True, "practical_help": ["meals"]}, {"age": 12, "child_at_risk": True},
    {"locality": "Chatham", "fallen": True}, {"is_unpaid_carer": True}, {"immediate_danger": True},
    {"suicidal_thoughts": False, "suicide_plan_or_intent": True}, {"fallen": False, "on_floor_cannot_get_up": True},
    {"end_of_life": True}, {"outcomes_unable": ["hygiene"]}, {},
]


def all_contacts() -> list[dict]:
    service = get_triage()
    raw = [contact(**facts) for facts in SCENARIOS] + [contact(screen=False, base=False, **facts) for facts in SCENARIOS]
    raw += [load_example(path)["contact"] for path in examples()]
    return [service.parse_contact(item) for item in raw]


def open_state(name: str, sid: str):
    """The session's state, or None when the engine holds none for it."""
    try:
        return durable_adapter._host().get_state(name, sid)
    except Exception:
        return None


# --- threads ---------------------------------------------------------------------------------

def test_eight_threads_deciding_at_once_get_the_single_threaded_decisions():
    ruleset = get_triage().ruleset
    contacts = all_contacts()
    expected = [decide(c, ruleset, NOW) for c in contacts]

    def worker(seed: int) -> list[tuple[int, dict]]:
        order = list(range(len(contacts))) * 3
        random.Random(seed).shuffle(order)
        return [(i, decide(contacts[i], ruleset, NOW)) for i in order]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))
    assert sum(len(r) for r in results) == 8 * 3 * len(contacts)
    for per_thread in results:
        for index, decision in per_thread:
            assert decision == expected[index], f"contact {index} decided differently under threads"


def test_the_adapter_host_runs_no_background_dispatch_threads():
    before = {t.ident for t in threading.enumerate()}
    get_triage().ruleset.engine.run({"fallen": True})
    assert {t.ident for t in threading.enumerate()} == before


# --- the 1,024 open-session limit ------------------------------------------------------------

def test_three_thousand_evaluations_in_one_process_work_and_leave_no_session_open():
    engine = get_triage().ruleset.engine
    first = next(durable_adapter._SESSION_IDS)
    for i in range(3000):
        result = engine.run({"age": 18 + i % 80, "fallen": bool(i % 2), "lonely_or_isolated": i % 3 == 0})
        assert "SELF-1" in result.fired
    last = next(durable_adapter._SESSION_IDS)
    assert last - first >= 3000 * len(engine._names)
    leftovers = [(name, sid) for sid in range(first, last + 1) for name in engine._names
                 if open_state(name, str(sid)) is not None]
    assert leftovers == []


def test_raw_durable_rules_refuses_the_1025th_open_session():
    # In a child process: after the MemoryError durable-rules may later segfault.
    script = textwrap.dedent("""
        import uuid
        from spoa import durable_adapter
        host = durable_adapter._host()
        name = "trap_sessions_" + uuid.uuid4().hex[:8]
        host.register_rulesets({name: {"seen": {"all": [{"m": {"t": "probe"}}], "run": lambda c: None}}})
        for i in range(1100):
            try:
                host.assert_fact(name, {"t": "probe", "sid": str(i)})
            except MemoryError:
                print("MemoryError at session", i)
                break
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "MemoryError at session 1024" in result.stdout, result.stderr[-2000:]


def test_a_session_left_open_would_be_visible_to_the_leftover_check():
    # The check above is only meaningful if get_state finds a session that was not deleted.
    host = durable_adapter._host()
    name = f"trap_probe_{uuid.uuid4().hex[:8]}"
    host.register_rulesets({name: {"seen": {"all": [{"m": {"t": "probe"}}], "run": lambda c: None}}})
    host.assert_fact(name, {"t": "probe", "sid": "kept-open"})
    assert open_state(name, "kept-open") is not None
    host.delete_state(name, "kept-open")
    assert open_state(name, "kept-open") is None


# --- strings compared with numbers ------------------------------------------------------------

def test_raw_durable_rules_would_match_the_string_abc_as_at_least_75():
    host = durable_adapter._host()
    name = f"trap_compare_{uuid.uuid4().hex[:8]}"
    matched = []
    host.register_rulesets({name: {"elderly": {"all": [{"m": {"$gte": {"age": 75}}}], "run": lambda c: matched.append(c.m.age)}}})
    host.assert_fact(name, {"age": "abc", "sid": "raw"})
    host.delete_state(name, "raw")
    assert matched == ["abc"], "durable-rules 2.0.28 compares 'abc' >= 75 as true: the trap is real"


@pytest.mark.parametrize("facts", [
    {"age": "abc"}, {"age": "75"}, {"age": True}, {"frailty_score": 6.5}, {"fallen": "yes"},
    {"fall_injury": "catastrophic"}, {"abuse_types": ["financial", "gossip"]}, {"abuse_types": "financial"},
    {"locality": 7}, {"made_up_fact": True},
])
def test_a_fact_of_the_wrong_type_never_reaches_the_engine(facts):
    with pytest.raises(EngineInputError):
        get_triage().ruleset.engine.run(facts)


def test_validated_contacts_only_carry_typed_facts_to_the_engine():
    engine = get_triage().ruleset.engine
    assert "SCOPE-1" in engine.run({"age": 17}).fired
    assert "SCOPE-1" not in engine.run({"age": 75}).fired


# --- an exception inside a rule's action ------------------------------------------------------

def fresh_rulebook(marker: str):
    """The real rules under a new version (so a new compiled instance), without changing them."""
    return load_rulebook(RULES_DIR, load_config(ROOT / "config.yml"), extra_fingerprint=f"{marker}-{uuid.uuid4()}".encode())


class _ActionFails(EngineRuleset):
    """The real rulebook compiled with VCS-1's action replaced by one that fails."""

    def _action(self, rule):
        if rule.id == "VCS-1":
            def broken(c):
                raise RuntimeError("the directory service is down")
            return broken
        return super()._action(rule)


def test_an_exception_inside_a_rule_action_surfaces_as_engine_error():
    engine = _ActionFails(fresh_rulebook("action-fails"))
    with pytest.raises(EngineError, match="the directory service is down"):
        engine.run({"age": 70, "lonely_or_isolated": True})
    # The failure is not sticky: the next contact, which does not reach VCS-1, is decided.
    result = engine.run({"age": 70, "fallen": True})
    assert "UCR-1" in result.fired and "VCS-1" not in result.fired


# --- ruleset names and versions -----------------------------------------------------------------

def test_compiling_the_same_rulebook_twice_returns_the_cached_ruleset():
    ruleset = get_triage().ruleset
    assert compile_rulebook(ruleset.rulebook) is ruleset.engine
    again = get_triage().load_candidate(RULES_DIR)
    assert again.version == ruleset.version and again.engine is ruleset.engine


def test_registering_a_ruleset_name_twice_is_what_the_cache_prevents():
    with pytest.raises(Exception):
        EngineRuleset(get_triage().ruleset.rulebook)
    # ...and the compiled ruleset still works afterwards.
    assert "SELF-1" in get_triage().ruleset.engine.run({"age": 40}).fired


def test_two_ruleset_versions_coexist_and_each_decides_by_its_own_rules(tmp_path):
    candidate_dir = tmp_path / "rules"
    shutil.copytree(RULES_DIR, candidate_dir)
    path = candidate_dir / "vcs.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(rule for rule in document["rules"] if rule["id"] == "VCS-1")["status"] = "retired"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    service = get_triage()
    current = service.ruleset
    candidate = service.load_candidate(candidate_dir)
    assert candidate.version != current.version and candidate.engine is not current.engine
    lonely = service.parse_contact(contact(lonely_or_isolated=True))
    moment = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    for _ in range(3):  # interleaved, both stay themselves
        assert decide(lonely, current, moment)["route"] == "voluntary_sector"
        old_version = decide(lonely, candidate, moment)
        assert old_version["route"] == "self_care" and old_version["ruleset_version"] == candidate.version
