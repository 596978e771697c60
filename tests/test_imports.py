"""The package's structure: one direction of imports, no cycles, no hidden imports, no Jupyter in the backend.

The layer order itself is the import-linter contract in pyproject.toml (``scripts/test`` runs
``lint-imports`` and ``ruff`` before the tests, and :func:`test_the_layer_contracts_hold`
runs the contracts again so a plain ``pytest`` sees them too). The tests here check what a
contract can't say: every import of the package's own modules runs when the importing module
is imported (so the graph a reader sees is the real one), except in the facades the contract
names; the graph has no cycle; no module imports the package's modules by a string.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "wf_widgets"
SOURCES = sorted(PACKAGE.rglob("*.py"))

BACKEND = ["wf_widgets", "wf_widgets.outputs", "wf_widgets.outputs.codecs", "wf_widgets.outputs.cog", "wf_widgets.jobs",
           "wf_widgets.engine", "wf_widgets.geo", "wf_widgets.catalog", "wf_widgets.delivery", "wf_widgets.server",
           "wf_widgets.cli"]
JUPYTER = ["ipywidgets", "ipyleaflet", "anywidget", "IPython", "ipykernel", "jupyter_server"]

#: The facades: (module, the module it imports inside one function). The import-linter
#: contract ignores the same edges, and says why.
FACADES = {
    ("wf_widgets.values.base", "wf_widgets.jobs.compute"),
    ("wf_widgets.values.image", "wf_widgets.widgets.default_map"),
    ("wf_widgets.jobs.job", "wf_widgets.widgets.jobs_board"),
    ("wf_widgets", "wf_widgets.widgets"),
    ("wf_widgets", "wf_widgets.widgets.default_map"),
}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(path): path for path in SOURCES}


def _target(name: str) -> str | None:
    """The package module ``name`` refers to (``wf_widgets.geo.DLTile`` -> ``wf_widgets.geo``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """(package module imported, at module level?, line) for every import of the package in ``path``."""
    tree = ast.parse(path.read_text())
    top = set()
    for statement in tree.body:
        for node in ast.walk(statement) if isinstance(statement, (ast.If, ast.Try)) else [statement]:
            top.add(id(node))
    module = _module(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            stem = ".".join(part for part in (base, node.module or "") if part)
            names = [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _target(name) if name.startswith("wf_widgets") else None
            if target is not None and target != module:
                found.append((target, id(node) in top, node.lineno))
    return found


def test_backend_imports_without_jupyter_packages():
    code = (
        "import importlib, sys\n"
        f"for m in {BACKEND!r}: importlib.import_module(m)\n"
        "import wf_widgets as wf\n"
        "assert (wf.Int(1) + 1).compute() == 2\n"
        f"print(sorted(m for m in {JUPYTER!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_package_imports_its_modules_at_module_level_except_in_the_facades():
    inside = [f"{path.relative_to(ROOT)}:{line} imports {target}"
              for path in SOURCES for target, top, line in _imports(path)
              if not top and (_module(path), target) not in FACADES]
    assert inside == []


def test_every_facade_is_still_a_function_level_import():
    found = {(_module(path), target) for path in SOURCES for target, top, _ in _imports(path) if not top}
    assert found == FACADES


def test_no_import_cycle_among_the_packages_modules():
    graph = {name: {target for target, _, _ in _imports(path) if (name, target) not in FACADES}
             for name, path in MODULES.items()}
    # Strip modules that import nothing left in the graph until only cycles (if any) remain.
    while True:
        leaves = {name for name, targets in graph.items() if not targets & graph.keys() - {name}}
        if not leaves:
            break
        graph = {name: targets for name, targets in graph.items() if name not in leaves}
    assert sorted(graph) == []


def test_no_module_is_imported_by_a_string():
    offenders = [str(path.relative_to(ROOT)) for path in SOURCES
                 if "importlib" in path.read_text() or "__import__(" in path.read_text()]
    assert offenders == []


@pytest.mark.parametrize("tool, args", [("lint-imports", []), ("ruff", ["check", "wf_widgets", "tests", "benchmarks"])])
def test_the_layer_contracts_hold(tool, args):
    exe = Path(sys.executable).with_name(tool)
    if not exe.exists():
        pytest.skip(f"{tool} is not installed in this environment (scripts/test installs it)")
    out = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
