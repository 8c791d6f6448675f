"""The packages' import graph has no cycles — counting imports inside functions, which hide a cycle from
Python at import time but not from a reader — and importing a package runs its `__init__`, so a module importing
`shegong.x.y` depends on `shegong.x` too. The runtime package `shegong` reaches the development tools
(`shegong_tools`: the generator and the benchmark) only from the CLI commands that run them."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ORCHESTRATION = Path(__file__).parents[2] / "orchestration"
RUNTIME, TOOLS = "shegong", "shegong_tools"


def module_name(path: Path) -> str:
    parts = path.relative_to(ORCHESTRATION).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in (ORCHESTRATION / package).rglob("*.py") if "vendor" not in p.parts}


def import_graph() -> dict[str, set[str]]:
    modules = package_modules(RUNTIME) | package_modules(TOOLS)
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


def test_no_import_cycles_in_the_packages():
    graph = import_graph()
    assert graph.get("shegong.contracts") and graph.get("shegong_tools.generate.build")  # both were read
    assert not cycles(graph), f"import cycles (function-local imports included): {cycles(graph)}"


def tools_imports(source: str) -> list[tuple[int, bool]]:
    """(line, inside a function) of every import of the tools package in a module's source."""
    found: list[tuple[int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                names = (
                    [child.module or ""]
                    if isinstance(child, ast.ImportFrom)
                    else [a.name for a in child.names]
                )
                if any(name.split(".")[0] == TOOLS for name in names):
                    found.append((child.lineno, in_function))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(source), False)
    return found


def test_the_tools_finder_tells_a_module_level_import_from_a_function_local_one():
    source = (
        "import shegong_tools.bench\n"
        "if True:\n    from shegong_tools.generate import generate\n"
        "def f():\n    from shegong_tools.bench.runner import run_bench\n"
        "from shegong import config\n"
    )
    assert tools_imports(source) == [(1, False), (3, False), (5, True)]


def test_the_runtime_reaches_the_tools_only_inside_cli_commands():
    """Importing the code location, the pipeline or any runtime module never loads the generator or the
    benchmark: only `shegong generate` and `shegong bench` import them, inside the command."""
    offending = [
        f"{name}:{line}"
        for name, path in package_modules(RUNTIME).items()
        for line, in_function in tools_imports(path.read_text(encoding="utf-8"))
        if name != "shegong.cli" or not in_function
    ]
    assert not offending, f"the runtime package imports {TOOLS} outside the CLI's commands: {offending}"
    cli = (ORCHESTRATION / "shegong" / "cli.py").read_text(encoding="utf-8")
    assert len(tools_imports(cli)) >= 3  # the generate and bench commands were seen


def test_generate_and_bench_say_in_one_line_when_the_tools_are_not_installed(monkeypatch):
    from click.testing import CliRunner

    from shegong.cli import main

    monkeypatch.setitem(sys.modules, TOOLS, None)  # what an install without the tools package looks like
    for command in (["generate", "--months", "1"], ["bench", "--scale", "small"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert lines == [
            f"error: {command[0]}: the development tools package shegong_tools is not installed: "
            "run make install (or pip install -e . from the repository)"
        ]


def test_a_run_with_nothing_new_does_not_import_dagster():
    """`shegong run` decides "nothing new" before it loads Dagster (about a second and a half of imports): the
    pipeline module and what it imports at module level stay free of Dagster, in a fresh interpreter."""
    import subprocess

    probe = (
        "import sys, shegong.pipeline; print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
