"""The package's import graph, read from the source (AST): no cycle, even through an import
deferred into a function (the Ray executor once imported the runner that imported it)."""

import ast
from pathlib import Path

import pipeline

PACKAGE = Path(pipeline.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _statements(body: list[ast.stmt], deferred: bool):
    """The statements that may run, never ``if TYPE_CHECKING`` blocks; function bodies only when ``deferred``."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not deferred:
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _statements(node.orelse, deferred)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            yield from _statements(getattr(node, field, []), deferred)


def import_graph(*, deferred: bool = True) -> dict[str, set[str]]:
    """Each module of pipeline/ and the modules of pipeline/ it imports: at import time, and
    (``deferred``) inside its functions."""
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported: set[str] = set()
        for node in _statements(ast.parse(path.read_text(encoding="utf-8")).body, deferred):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    imported.add(submodule if submodule in paths else base)
        graph[name] = {module for module in imported if module in paths and module != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if cycle := visit(target):
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if cycle := visit(module):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_the_package_imports():
    graph = import_graph()
    assert "pipeline.runs.ledger" in graph["pipeline.runs.local"]
    assert "pipeline.runs.batch_api" in graph["pipeline.cli.running"]  # from pipeline.runs import batch_api


def test_no_module_of_pipeline_imports_itself_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_ray_executor_is_imported_only_for_executor_ray():
    at_import_time = import_graph(deferred=False)
    assert not any("pipeline.runs.ray" in targets for targets in at_import_time.values())
    assert "pipeline.runs.ray" in import_graph()["pipeline.runs"]
