"""The label policy has one home (pipeline/checks/verdict.py), and no view or desk module
imports an engine: a report prints a probability without loading the offline engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"
FORBIDDEN = ("pipeline.engines", "pipeline.offline.engine")
POLICY = {"decide_label", "settle_label", "settle_with_evidence", "batch_evidence", "logit", "sigmoid", "probability_text"}


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


@pytest.mark.parametrize("folder", ["views", "desk"])
def test_no_view_or_desk_module_imports_an_engine(folder):
    modules = sorted((PACKAGE / folder).rglob("*.py"))
    assert modules
    for path in modules:
        engines = sorted(m for m in _imported_modules(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
        assert not engines, f"{path.relative_to(PACKAGE)} imports {engines}"


def test_the_import_walk_sees_an_engine_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from pipeline.offline.engine import analyse_offline\n    import pipeline.engines.llm\n")
    assert {"pipeline.offline.engine", "pipeline.engines.llm"} <= _imported_modules(sample)


def test_the_label_policy_is_defined_once_in_checks_verdict():
    homes: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in POLICY and node.col_offset == 0:
                homes.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert homes == {name: ["checks/verdict.py"] for name in POLICY}
