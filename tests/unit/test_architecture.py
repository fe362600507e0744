"""The shape of the code: rooms that do not reach back.

The import graph of ``sim/`` is read from the source (every import, including those inside
functions and under ``TYPE_CHECKING``), so a circle cannot hide behind a lazy import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SIM = Path(__file__).resolve().parents[2] / "sim"


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    """Every module (project or not) the file imports, by its dotted name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


MODULES = {module_name(p): p for p in SIM.rglob("*.py")}
IMPORTS = {name: imports_of(path) for name, path in MODULES.items()}


def project_imports(name: str) -> set[str]:
    return {m for m in IMPORTS[name] if m in MODULES and m != name}


def test_no_import_circle_anywhere_in_sim():
    graph = nx.DiGraph()
    for name in MODULES:
        graph.add_node(name)
        graph.add_edges_from((name, target) for target in project_imports(name))
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import circles: {cycles}"


def test_the_vocabulary_imports_nothing_of_the_project():
    assert project_imports("sim.vocabulary") == set()


def test_the_schema_imports_only_the_vocabulary():
    assert project_imports("sim.config") <= {"sim.vocabulary"}


@pytest.mark.parametrize("kernel", sorted(m for m in MODULES if m.startswith("sim.kernels.")))
def test_kernels_import_neither_pydantic_nor_the_schema(kernel):
    imported = IMPORTS[kernel]
    assert not any(m == "pydantic" or m.startswith("pydantic.") for m in imported)
    assert not any(m == "sim.config" or m.startswith("sim.config.") for m in imported)


@pytest.mark.parametrize("agent", sorted(m for m in MODULES if m.startswith("sim.agents.")))
def test_agents_do_not_import_the_model(agent):
    assert "sim.model" not in IMPORTS[agent]


def test_agents_read_no_config_through_the_model():
    """Agents get their config section at construction: none reaches for ``model.config``."""
    for name, path in MODULES.items():
        if name.startswith("sim.agents."):
            assert "model.config" not in path.read_text(encoding="utf-8"), name


def test_the_model_module_is_short():
    """The model composes the phases; building and the phases live elsewhere."""
    assert len((SIM / "model.py").read_text(encoding="utf-8").splitlines()) <= 400
