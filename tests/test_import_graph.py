"""The project's import graph: no cycles, and nothing runs against adapters -> bot -> store."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("store", "bot", "adapters", "bench", "transcripts")
# Which layers a layer may import. transcripts is data; bench drives the whole stack from
# the outside (adapters.cli offers it as `quotebot bench` only through its command table).
MAY_IMPORT = {
    "transcripts": set(),
    "store": {"store"},
    "bot": {"bot", "store", "transcripts"},
    "adapters": {"adapters", "bot", "store", "transcripts"},
    "bench": {"bench", "adapters", "bot", "store", "transcripts"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "quotebot." + ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def type_only(tree: ast.Module) -> set[ast.AST]:
    """Nodes under `if TYPE_CHECKING:`: annotations only, never run."""
    return {
        child
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for child in ast.walk(stmt)
    }


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Project modules `path` imports anywhere in its body, function-level imports included
    (imports for type annotations only, under `if TYPE_CHECKING:`, are not run)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    skip = type_only(tree)
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the module pkg.mod when there is one.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@functools.cache  # parsed once per test process; the tests only read it
def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def layer(name: str) -> str:
    return name.split(".")[1]


def test_the_graph_sees_the_project():
    edges = graph()
    assert len(edges) > 40
    assert "quotebot.store.db" in edges["quotebot.bot.library"] or any(
        target.startswith("quotebot.store") for target in edges["quotebot.bot.library"]
    )


def test_imports_run_only_from_adapters_to_bot_to_store():
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if layer(target) not in MAY_IMPORT[layer(source)]
    )
    assert wrong == []


def test_an_adapter_does_not_import_another_adapter():
    platforms = ("discord", "slack", "console")

    def platform(name: str) -> str | None:
        parts = name.split(".")
        return parts[2] if layer(name) == "adapters" and parts[2] in platforms else None

    crossing = sorted(
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if platform(source) and platform(target) and platform(source) != platform(target)
    )
    assert crossing == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert cycles(graph()) == []
