"""The import graph of sam_bench: no cycle, and dependencies flow tasks -> data, never back.

Every ``import`` and ``from ... import`` is read with ``ast`` (module level and inside
functions, so a function-level import cannot hide an edge). ``from pkg import name`` reads
the package's namespace: it is an edge to ``pkg`` (so a submodule taking names from a package
whose ``__init__`` re-exports that submodule is a cycle), and also to ``pkg.name`` when that is
a module. ``import pkg.sub`` is an edge to ``pkg.sub`` only: the parent packages it implies are
not counted (every submodule would otherwise "import" its package).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sam_bench"


def _modules(package: Path) -> dict[str, Path]:
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _targets(module: str, path: Path, node, modules) -> list[str]:
    """The sam_bench modules one import statement makes ``module`` depend on."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:  # relative: from the package holding ``module``
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module
        names = [base] + [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
    out = []
    for name in names:
        while name and name not in modules:  # ``import a.b.c`` of a module a.b (c an attribute) -> a.b
            name = name.rpartition(".")[0]
        if name and name != module:
            out.append(name)
    return out


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(package)
    graph = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(_targets(module, path, node, modules))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle [a, b, ..., a] of ``graph``, or None (iterative depth-first search)."""
    state = {}  # module -> 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_import_graph_search_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_import_graph_reads_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "sam_bench"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("from .x import f\n")
    (pkg / "data" / "x.py").write_text("def f():\n    import sam_bench.data.y\n    from .z import g\n")
    (pkg / "data" / "y.py").write_text("from sam_bench.data import f\n")
    (pkg / "data" / "z.py").write_text("import sam_bench.data.y.something\nfrom . import y\n")
    graph = import_graph(pkg)
    assert graph["sam_bench.data"] == {"sam_bench.data.x"}
    assert graph["sam_bench.data.x"] == {"sam_bench.data.y", "sam_bench.data.z"}
    assert graph["sam_bench.data.y"] == {"sam_bench.data"}  # a name re-exported by the package
    assert graph["sam_bench.data.z"] == {"sam_bench.data", "sam_bench.data.y"}  # ``from . import y``: both
    assert find_cycle(graph) == ["sam_bench.data", "sam_bench.data.x", "sam_bench.data.y", "sam_bench.data"]


def test_import_graph_has_no_cycles_and_no_data_to_tasks_edge():
    graph = import_graph()
    assert len(graph) > 50 and "sam_bench.tasks.mixtures" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
    backwards = sorted((a, b) for a, targets in graph.items() for b in targets
                       if a.startswith("sam_bench.data") and b.startswith("sam_bench.tasks"))
    assert not backwards, f"sam_bench.data must not import sam_bench.tasks (tasks -> data only): {backwards}"


#: docs/architecture.md's layers, top to bottom: a module imports only its own layer or below.
LAYERS = [
    ["cli", "manifest_cli", "config_docs"],
    ["report", "plan", "memory"],
    ["config"],
    ["analysis"],
    ["train"],
    ["optim"],
    ["models"],
    ["tasks"],
    ["data"],
    ["errors", "io", "runtime", "parallel", "fingerprint", "cell_table", "cell", "curvature"],
]


def _layer(module: str) -> int | None:
    room = module.split(".")[1] if "." in module else None
    return next((i for i, rooms in enumerate(LAYERS) if room in rooms), None)


def upward_edges(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if _layer(a) is not None and _layer(b) is not None and _layer(b) < _layer(a))


def test_import_graph_flows_down_the_documented_layers():
    graph = import_graph()
    rooms = {m.split(".")[1] for m in graph if m.count(".") >= 1}
    assert rooms <= {r for rooms_ in LAYERS for r in rooms_}, f"rooms missing from LAYERS: {rooms - set(sum(LAYERS, []))}"
    assert upward_edges(graph) == []
    assert upward_edges({"sam_bench.models.memory": {"sam_bench.optim.base"}}) == [
        ("sam_bench.models.memory", "sam_bench.optim.base")]  # the check sees a planted one
