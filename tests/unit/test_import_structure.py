"""The package's import graph has no cycles — counting imports inside functions, which hide a cycle from
Python at import time but not from a reader — and importing a package runs its `__init__`, so a module importing
`shegong.x.y` depends on `shegong.x` too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "orchestration" / "shegong"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py") if "vendor" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        # `import a.b.c` also runs a/__init__ and a/b/__init__ — except the packages the importer is inside of,
        # which Python has already run before it; importing one of those by name is an edge like any other.
        own_packages = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        deps = set(targets)
        for target in targets:
            parts = target.split(".")
            deps.update(
                ".".join(parts[:i]) for i in range(2, len(parts)) if ".".join(parts[:i]) not in own_packages
            )
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_finder_sees_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert cycles(graph) == [["a", "b"]]
    source = "def f():\n    from shegong.contracts import contracts\n"
    node = ast.parse(source).body[0].body[0]
    assert isinstance(node, ast.ImportFrom) and node.module == "shegong.contracts"


def test_no_import_cycles_in_the_package():
    graph = import_graph()
    assert graph.get("shegong.contracts")  # the graph was read
    assert not cycles(graph), f"import cycles (function-local imports included): {cycles(graph)}"
