"""The package's structure: every module imports, alone too, and the capability folders import each other
without cycles (imports inside functions count: a cycle there is still two capabilities that need each other).

Nodes are the sub-packages of coordinator/ (audit, auth, registry, sampling, ...) and its top-level modules
(cli, links, extensions, ...). coordinator/__init__.py, the app factory, may import everything and is no source
of edges. The migrations folder is alembic's, run by alembic, and is left out (so is __main__, which runs the
command when imported).
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import coordinator

PACKAGE = Path(coordinator.__file__).parent
ROOT = "coordinator"
LEFT_OUT = ("coordinator.migrations",)


def module_names() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix=ROOT + "."):
        # __main__ runs the command when imported: it is what `python -m coordinator` executes, not a module.
        if not info.name.startswith(LEFT_OUT) and not info.name.endswith(".__main__"):
            names.append(info.name)
    return sorted(names)


def _module_of(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def node_of(module: str) -> str | None:
    """The folder or top-level module a dotted name belongs to; `coordinator` for the package itself (and for a
    name imported from it that is no module, such as create_app). None outside the package."""
    parts = module.split(".")
    if parts[0] != ROOT:
        return None
    if len(parts) == 1:
        return ROOT
    head = parts[1]
    if (PACKAGE / head).is_dir() or (PACKAGE / f"{head}.py").is_file():
        return head
    return ROOT


def imported_names(tree: ast.AST, module: str, is_package: bool):
    """(dotted target, line) for every import in the tree, at any depth, relative ones resolved."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                # `from pkg import name`: name may be a module; node_of only needs the first part below coordinator.
                yield (f"{source}.{alias.name}" if source == ROOT else source), node.lineno


def import_graph() -> dict[tuple[str, str], list[str]]:
    """{(from node, to node): ["coordinator.a.b -> coordinator.c (line n)", ...]} between different nodes."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        module, is_package = _module_of(path)
        if module == ROOT or module.startswith(LEFT_OUT):
            continue
        source = node_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target, line in imported_names(tree, module, is_package):
            to = node_of(target)
            if to is not None and to != source:
                edges[(source, to)].append(f"{module} -> {target} (line {line})")
    return dict(edges)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted; only those of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = sorted(set(graph) | {w for targets in graph.values() for w in targets})
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through the component's first node (breadth first, so a shortest one)."""
    inside = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph.get(v, ())):
            if w not in inside:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1] + [start]
            if w not in came_from:
                came_from[w] = v
                queue.append(w)
    return component


def describe_cycles(edges: dict[tuple[str, str], list[str]]) -> str:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    lines = []
    for component in strongly_connected(graph):
        lines.append(f"Cycle between {', '.join(component)}:")
        path = a_cycle(graph, component)
        for a, b in zip(path, path[1:]):
            lines.append(f"  {a} -> {b}:")
            lines.extend(f"      {why}" for why in edges[(a, b)])
    return "\n".join(lines)


def test_every_module_imports():
    names = module_names()
    assert len(names) > 150, names  # the walk really found the package
    for name in names:
        importlib.import_module(name)


def test_the_capability_folders_import_each_other_without_cycles():
    edges = import_graph()
    assert ("cli", "registry") in edges  # the graph is really built: `setup` imports the registry's reference data
    # An import inside a function counts: measurement's _organizer() imports the invitations' service there only.
    assert any(why.startswith("coordinator.measurement.service -> coordinator.invites.service")
               for why in edges[("measurement", "invites")])
    # The invitations build on the visits; the visits ask for their mails through scheduling/signals.py and share
    # contacts, attendees and the outbox from the folders below both.
    assert ("invites", "scheduling") in edges and ("scheduling", "invites") not in edges
    message = describe_cycles(edges)
    assert not message, "Import cycles between capability folders:\n" + message


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": set(), "f": {"g"}, "g": {"f"}, "h": {"h"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["f", "g"]]
    assert a_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    edges = {("x", "y"): ["coordinator.x.m -> coordinator.y.n (line 3)"],
             ("y", "x"): ["coordinator.y.n -> coordinator.x (line 9)"], ("y", "z"): ["coordinator.y -> coordinator.z"]}
    message = describe_cycles(edges)
    assert "Cycle between x, y" in message
    assert "coordinator.x.m -> coordinator.y.n (line 3)" in message
    assert "coordinator.y.n -> coordinator.x (line 9)" in message
    assert "z" not in message.split("\n")[0]


def test_the_graph_reads_relative_imports_and_imports_inside_functions():
    source = ("from ..audit import record\nfrom . import views\nfrom .. import links\n"
              "def f():\n    from ..sampling.models import Sample\n    import coordinator.plans.service\n")
    found = {(node_of(t), line) for t, line in imported_names(ast.parse(source), "coordinator.tasks.auto", False)}
    assert found == {("audit", 1), ("tasks", 2), ("links", 3), ("sampling", 5), ("plans", 6)}
    from_init = {node_of(t) for t, _ in imported_names(ast.parse("from .models import User\nfrom .. import create_app\n"),
                                                        "coordinator.auth", True)}
    assert from_init == {"auth", "coordinator"}


# Each module imported alone, in an interpreter where no other coordinator module has been imported yet: the
# order of a test run (or of the app factory) can hide a module that only imports when another went first
# (coordinator.overview.due did not: links -> audit -> auth -> links). Importing any module pulls in most of the app,
# so a clean interpreter per module for all of them takes minutes; these are the modules at the seams that were
# cut. One interpreter loads the libraries once and forks a clean child per module.
ALONE_MODULES = ("coordinator.overview.due", "coordinator.links", "coordinator.auth.guard",
                 "coordinator.measurement.service", "coordinator.sampling.design", "coordinator.dialogue.notes",
                 "coordinator.plans.service", "coordinator.scheduling.decline_views", "coordinator.scheduling.service",
                 "coordinator.scheduling.offers", "coordinator.invites.service", "coordinator.contacts.service",
                 "coordinator.outbox.delivery")
ALONE = r"""
import importlib, os, sys, traceback
import flask, flask_babel, flask_login, flask_wtf, sqlalchemy, wtforms  # the libraries, shared by every child
assert not any(name.startswith("coordinator") for name in sys.modules)
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(name)
print("FAILED:" + ",".join(failed))
"""


def alone(names) -> tuple[str, str]:
    """(the names of the modules that failed, comma-separated; the tracebacks)."""
    done = subprocess.run([sys.executable, "-c", ALONE, *names], capture_output=True, text=True, timeout=600,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().rsplit("FAILED:", 1)[-1], done.stderr


def test_the_modules_at_the_seams_import_alone():
    names = module_names()
    assert set(ALONE_MODULES) <= set(names)
    failed, tracebacks = alone(ALONE_MODULES)
    assert failed == "", f"Modules that do not import alone: {failed}\n{tracebacks[-6000:]}"


def test_importing_alone_really_catches_a_failure():
    failed, tracebacks = alone(["coordinator.no_such_module"])
    assert failed == "coordinator.no_such_module"
    assert "ModuleNotFoundError" in tracebacks
