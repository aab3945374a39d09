"""Dependencies point one way: entry points -> web -> pipeline -> adapters (db, jira, llm, connect) -> domain.

Checked from the source with `ast`, so a forbidden import fails the suite instead of a review.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_type_hints

import networkx as nx
import pytest

from app.container import Services
from tests.support import REPO

pytestmark = [pytest.mark.unit, pytest.mark.web]

APP = REPO / "app"
ENTRY_POINTS = {"cli.py", "launch.py", "demo.py", "scheduler.py"}
PURE_LIBRARIES = ("domain", "intake", "generation", "llm", "adf")
OUTER_LAYERS = (
    "app.web",
    "app.pipeline",
    "app.db",
    "app.sandbox",
    "app.connect",
    "app.forge",
    "app.jira",
    "app.container",
)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (APP / folder).rglob("*.py"))


def _offenders(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(REPO)} imports {name}"
        for path in paths
        for name in sorted(_imports(path))
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    ]


def test_only_entry_points_import_the_workers() -> None:
    inside = [p for p in APP.rglob("*.py") if p.relative_to(APP).as_posix() not in ENTRY_POINTS]
    assert _offenders(inside, ("workers",)) == []


def test_pure_libraries_know_nothing_of_the_app_around_them() -> None:
    assert _offenders(_modules(*PURE_LIBRARIES), OUTER_LAYERS) == []


def test_use_cases_do_not_reach_up_into_the_web_layer_or_the_sandbox() -> None:
    assert _offenders(_modules("pipeline", "db", "jira", "connect", "forge"), ("app.web", "app.sandbox")) == []


def test_the_sandbox_is_reached_only_by_entry_points() -> None:
    outside = [
        p
        for p in APP.rglob("*.py")
        if "sandbox" not in p.relative_to(APP).parts and p.relative_to(APP).as_posix() not in ENTRY_POINTS
    ]
    assert _offenders(outside, ("app.sandbox",)) == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_imports_one_that_imports_it_back() -> None:
    """Imports under TYPE_CHECKING count too: a circle there is a circle in the design."""
    paths = sorted([*APP.rglob("*.py"), *(REPO / "workers").rglob("*.py")])
    modules = {_module_name(p): p for p in paths}
    graph: nx.DiGraph = nx.DiGraph()
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from app.pipeline import export` imports the module app.pipeline.export.
                targets = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules]
                graph.add_edges_from((name, target) for target in targets or [node.module] if target in modules)
            elif isinstance(node, ast.Import):
                graph.add_edges_from((name, a.name) for a in node.names if a.name in modules)
    graph.remove_edges_from(nx.selfloop_edges(graph))
    assert sorted(sorted(cycle) for cycle in nx.simple_cycles(graph)) == []


def test_use_cases_get_their_ports_not_the_composition_root() -> None:
    """app/pipeline/ports.py declares what a use case needs; only the entry points and the web know `Services`."""
    assert _offenders(_modules("pipeline"), ("app.container",)) == []


# The Connect and Forge lifecycle fronts hand the tenant stores to the adapters they wrap (app/connect, app/forge).
ADAPTER_FRONTS = {"lifecycle.py", "forge.py", "forge_identity.py"}


def _is_services(node: ast.expr) -> bool:
    """`services(request)`, `request.state.services`, or a local holding them (`services`, `current`)."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "services"
    if isinstance(node, ast.Attribute):
        return node.attr == "services"
    return isinstance(node, ast.Name) and node.id in {"services", "current"}


def test_the_web_layer_calls_use_cases_not_repositories() -> None:
    """A handler parses, calls a use case or query of app/pipeline with `services` as its ports, and renders: no
    module of app/web imports a repository or picks one off `Services`. Records (app.db.models) are what they return.
    """
    web = _modules("web")
    imports = [found for found in _offenders(web, ("app.db",)) if not found.endswith(" imports app.db.models")]
    repositories = {name for name, kind in get_type_hints(Services).items() if kind.__name__.endswith("Repository")}
    assert {"sessions", "tickets", "tasks", "audit", "retention", "heartbeats"} <= repositories
    reached = [
        f"{path.relative_to(REPO)}:{node.lineno} takes services.{node.attr}"
        for path in web
        if path.name not in ADAPTER_FRONTS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in repositories and _is_services(node.value)
    ]
    assert imports + reached == []


# Every node and mark type the app writes (app/adf/schema.py checks them against Atlassian's schema).
ADF_TYPES = {
    *("doc", "paragraph", "text", "hardBreak", "heading", "bulletList", "orderedList", "listItem", "taskList"),
    *("taskItem", "codeBlock", "panel", "blockquote", "rule", "table", "tableRow", "tableHeader", "tableCell"),
    *("mention", "emoji", "inlineCard", "mediaSingle", "media", "expand", "strong", "em", "code", "link", "strike"),
}


def test_adf_nodes_are_built_in_one_module() -> None:
    """app/adf/nodes.py spells every ADF node; a dict literal `{"type": "paragraph", ...}` anywhere else is a twin."""
    builder = APP / "adf" / "nodes.py"
    spelled = [
        f"{path.relative_to(REPO)}:{node.lineno} builds a {value.value} node"
        for path in sorted([*APP.rglob("*.py"), *(REPO / "workers").rglob("*.py")])
        if path != builder
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values, strict=True)
        if isinstance(key, ast.Constant) and key.value == "type"
        if isinstance(value, ast.Constant) and value.value in ADF_TYPES
    ]
    assert spelled == []


def test_repositories_are_built_by_the_composition_root_alone() -> None:
    """A use case, actor or middleware takes its repositories from its ports (`Services` implements them); one built
    on the spot (`ExportRepository(services.db)`) hides a dependency the ports should state."""
    root = APP / "container.py"
    built = [
        f"{path.relative_to(REPO)}:{node.lineno} builds {node.func.id}"
        for path in sorted([*APP.rglob("*.py"), *(REPO / "workers").rglob("*.py")])
        if path != root
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.endswith("Repository")
    ]
    assert built == []
