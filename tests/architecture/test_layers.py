"""The package map of docs/architecture.md, enforced: which package may import which.

Every import is counted, at module level or inside a function, so a lazy import cannot hide
a dependency the map forbids. A new package must be added to the map (and the document).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Leaf modules another package may import without taking in the rest of their package.
LEAVES = {"shared.webhooks.signing"}

FOUNDATIONS = {"shared.config", "shared.errors", "shared.ids", "shared.logging", "shared.types"}

#: package -> the packages it may import (besides itself). Mirrors docs/architecture.md.
ALLOWED: dict[str, set[str]] = {
    "shared.config": set(),
    "shared.errors": set(),
    "shared.ids": set(),
    "shared.types": set(),
    "shared.logging": {"shared.config"},
    "shared.media": FOUNDATIONS,
    "shared.storage": FOUNDATIONS,
    "shared.db": FOUNDATIONS,
    "shared.broker": FOUNDATIONS,
    "shared.model": FOUNDATIONS | {"shared.storage"},
    "shared.provenance": FOUNDATIONS | {"shared.media"},
    "shared.pipeline": FOUNDATIONS | {"shared.media", "shared.model", "shared.provenance"},
    "shared.training": FOUNDATIONS | {"shared.media", "shared.model", "shared.pipeline"},
    "shared.access": FOUNDATIONS | {"shared.db", "shared.webhooks.signing"},
    "shared.webhooks": FOUNDATIONS | {"shared.db", "shared.access", "shared.webhooks.signing"},
    "shared.jobs": FOUNDATIONS
    | {"shared.media", "shared.storage", "shared.db", "shared.broker", "shared.model", "shared.pipeline"}
    | {"shared.provenance"}
    | {"shared.access", "shared.webhooks"},
    # Live streams: the job domain's neighbour (jobs.submit's metadata rule, the same pipeline).
    "shared.streams": FOUNDATIONS
    | {"shared.media", "shared.storage", "shared.db", "shared.broker", "shared.model", "shared.pipeline"}
    | {"shared.access", "shared.webhooks", "shared.jobs"},
    "shared.client": FOUNDATIONS | {"shared.webhooks.signing"},
    "shared.webhooks.signing": set(),
}
SHARED_FOR_SERVICES = set(ALLOWED) - {"shared.training"}
WORKER_SHELLS = {"services.worker"}
ALLOWED |= {
    # The API is torch-free: no pipeline, no training (shared.model only for its torch-free card).
    "services.api": SHARED_FOR_SERVICES - {"shared.pipeline"},
    "services.worker": SHARED_FOR_SERVICES,
    "services.cli": set(ALLOWED) | {"services.api", "services.worker"},
}
for tasks in ("segmenter", "detector", "aggregator", "webhooks", "maintenance", "streams"):
    ALLOWED[f"services.{tasks}"] = SHARED_FOR_SERVICES | WORKER_SHELLS


def package_of(module: str) -> str | None:
    """The map's unit a module belongs to: a leaf module, or `shared.X` / `services.X`."""
    for leaf in LEAVES:
        if module == leaf or module.startswith(leaf + "."):
            return leaf
    parts = module.split(".")
    if parts[0] not in ("shared", "services") or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports() -> dict[str, set[tuple[str, str]]]:
    """unit -> {(imported module, where)} for every first-party import in shared/ and services/."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in sorted([*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.py")]):
        rel = path.relative_to(ROOT)
        source = package_of(".".join(rel.with_suffix("").parts).removesuffix(".__init__"))
        if source is None:  # shared/__init__.py, services/__init__.py
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(rel))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from shared.webhooks import signing` imports the module shared.webhooks.signing
                names = [
                    f"{node.module}.{a.name}" if is_module(f"{node.module}.{a.name}") else node.module
                    for a in node.names
                ]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                target = package_of(name)
                if target is not None and target != source:
                    found[source].add((name, f"{rel}:{node.lineno}"))
    return found


def test_every_package_is_on_the_map() -> None:
    units = set(imports()) | {
        package_of(".".join(p.relative_to(ROOT).with_suffix("").parts))
        for p in [*ROOT.glob("shared/*"), *ROOT.glob("services/*")]
        if p.name not in ("__pycache__", "__init__.py") and (p.is_dir() or p.suffix == ".py")
    }
    unmapped = sorted(u for u in units if u and u not in ALLOWED and u not in LEAVES)
    assert unmapped == [], f"add these packages to the map (here and in docs/architecture.md): {unmapped}"


def test_imports_follow_the_map() -> None:
    bad = [
        f"{where}: {source} imports {name}"
        for source, found in imports().items()
        for name, where in sorted(found)
        if package_of(name) not in ALLOWED.get(source, set())
    ]
    assert bad == [], "imports the package map forbids:\n" + "\n".join(bad)


def test_the_map_has_no_cycle() -> None:
    seen: dict[str, int] = {}

    def visit(unit: str, path: list[str]) -> None:
        if seen.get(unit) == 1:
            raise AssertionError("import cycle between packages: " + " -> ".join([*path, unit]))
        if seen.get(unit) == 2:
            return
        seen[unit] = 1
        for nxt in sorted(ALLOWED.get(unit, set())):
            visit(nxt, [*path, unit])
        seen[unit] = 2

    for unit in sorted(ALLOWED):
        visit(unit, [])


@pytest.mark.parametrize("package", ["shared.pipeline", "shared.training", "shared.model"])
def test_ml_code_never_touches_the_database_broker_or_jobs(package: str) -> None:
    forbidden = {"shared.db", "shared.broker", "shared.jobs", "shared.access", "shared.webhooks"}
    hits = [
        f"{where}: {name}" for name, where in imports().get(package, set()) if package_of(name) in forbidden
    ]
    assert hits == []


def module_graph() -> dict[str, set[str]]:
    """module -> the first-party modules it imports (module level or inside a function)."""
    graph: dict[str, set[str]] = {}
    for path in sorted([*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    deps.add(full if is_module(full) else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
        graph[module] = {d for d in deps if d.split(".")[0] in ("shared", "services") and d != module}
    return graph


def test_no_module_imports_itself_back() -> None:
    """No import circle between modules either, lazy imports included (a lazy import is how a
    circle usually hides). A package's __init__ re-exporting its modules is not a circle."""
    graph = module_graph()
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", "import circle: " + " -> ".join([*trail, module])
        state[module] = "open"
        for dep in sorted(graph.get(module, set())):
            if module.startswith(dep + "."):  # a module importing its own package's __init__
                continue
            visit(dep, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        visit(module, [])
