"""The rooms stay small: the Store class under 400 lines, no module in pipeline/ over 500."""

import ast
from pathlib import Path

import pipeline

PACKAGE = Path(pipeline.__file__).parent
STORE_CLASS_LINES = 400
MODULE_LINES = 500

# Modules over the limit while issue 19's splits are under way, and why. The lead empties this
# as the splits merge; a module listed here that fits fails the test, so the list only shrinks.
OVERSIZED: dict[str, str] = {}


def _module_lines() -> dict[str, int]:
    return {
        module.relative_to(PACKAGE).as_posix(): len(module.read_text(encoding="utf-8").splitlines())
        for module in PACKAGE.rglob("*.py")
    }


def test_the_store_class_is_under_400_lines():
    tree = ast.parse((PACKAGE / "store" / "__init__.py").read_text(encoding="utf-8"))
    store = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Store")
    assert store.end_lineno is not None
    assert store.end_lineno - store.lineno + 1 < STORE_CLASS_LINES


def test_no_module_is_over_500_lines_but_the_known_exceptions():
    lines = _module_lines()
    assert {path: count for path, count in lines.items() if count > MODULE_LINES and path not in OVERSIZED} == {}
    assert [path for path in OVERSIZED if lines.get(path, 0) <= MODULE_LINES] == [], "these fit now: take them off OVERSIZED"
