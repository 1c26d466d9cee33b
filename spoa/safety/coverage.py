"""Which tests verify which hazard's controls: read from the test files, without running them.

A test is named `tests/test_x.py::test_name` (or `tests/test_x.py::TestClass::test_name`) and
carries `@pytest.mark.hazard("HAZ-007")` (several ids allowed), or its module sets
`pytestmark = pytest.mark.hazard(...)` (alone or in a list). Reading the files with `ast`
keeps the check fast and independent of fixtures, servers and browsers.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .hazard_log import TESTED_KINDS, HazardLog


def _hazard_ids(node: ast.expr) -> set[str]:
    """The ids in `pytest.mark.hazard("HAZ-1", ...)`, in a list of markers too."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return set().union(*(_hazard_ids(item) for item in node.elts)) if node.elts else set()
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "hazard"
            and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark"):
        return {arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return set()


def markers_in(path: Path, root: Path) -> dict[str, set[str]]:
    """Test node id -> the hazard ids it is marked with, for one test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative = path.relative_to(root).as_posix()
    module_ids: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            module_ids |= _hazard_ids(node.value)
    found: dict[str, set[str]] = {}

    def visit(body: list[ast.stmt], prefix: str, inherited: set[str]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                ids = set(inherited).union(*(_hazard_ids(d) for d in node.decorator_list)) if node.decorator_list \
                    else set(inherited)
                visit(node.body, f"{prefix}::{node.name}", ids)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                ids = set(inherited)
                for decorator in node.decorator_list:
                    ids |= _hazard_ids(decorator)
                found[f"{prefix}::{node.name}"] = ids

    visit(tree.body, relative, module_ids)
    return found


def collect(tests_dir: Path, root: Path) -> dict[str, set[str]]:
    """Every test in tests_dir (test_*.py) -> its hazard ids."""
    found: dict[str, set[str]] = {}
    for path in sorted(tests_dir.rglob("test_*.py")):
        found.update(markers_in(path, root))
    return found


@dataclass(frozen=True)
class Gap:
    hazard: str
    control: str | None
    problem: str

    def __str__(self) -> str:
        return f"{self.control or self.hazard}: {self.problem}"


def gaps(log: HazardLog, tests: dict[str, set[str]]) -> list[Gap]:
    """Where the log and the tests disagree.

    - a control names a test that does not exist, or one not marked with the control's hazard;
    - a closed hazard has a design or test control verified by no test, or a process or
      training control with no evidence;
    - a test is marked with a hazard the log doesn't have.
    """
    found: list[Gap] = []
    known = {hazard.id for hazard in log.hazards}
    for hazard in log.hazards:
        for control in hazard.controls:
            for test in control.tests:
                if test not in tests:
                    found.append(Gap(hazard.id, control.id, f"names {test}, which does not exist"))
                elif hazard.id not in tests[test]:
                    found.append(Gap(hazard.id, control.id,
                                     f"names {test}, which is not marked @pytest.mark.hazard({hazard.id!r})"))
            if hazard.status != "closed":
                continue
            if control.kind in TESTED_KINDS and not control.tests:
                found.append(Gap(hazard.id, control.id, f"the hazard is closed but this {control.kind} control "
                                                        "has no verifying test"))
            if control.kind not in TESTED_KINDS and not control.evidence:
                found.append(Gap(hazard.id, control.id, f"the hazard is closed but this {control.kind} control "
                                                        "names no evidence"))
    for test, ids in sorted(tests.items()):
        for hazard_id in sorted(ids - known):
            found.append(Gap(hazard_id, None, f"{test} is marked with {hazard_id}, which the hazard log doesn't have"))
    return found
