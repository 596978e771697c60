"""The backend imports without Jupyter packages (servers and cluster workers need that)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BACKEND = ["wf_widgets", "wf_widgets.outputs", "wf_widgets.outputs.codecs", "wf_widgets.outputs.cog", "wf_widgets.jobs",
           "wf_widgets.engine", "wf_widgets.geo", "wf_widgets.catalog", "wf_widgets.delivery", "wf_widgets.server",
           "wf_widgets.cli"]
JUPYTER = ["ipywidgets", "ipyleaflet", "anywidget", "IPython", "ipykernel", "jupyter_server"]


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


def _wf_imports(path: Path) -> set[str]:
    """The wf_widgets modules a source file imports anywhere (module level or inside functions)."""
    package = ".".join(path.relative_to(ROOT).parts[:-1])  # what relative imports start from
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.startswith("wf_widgets"))
    return found


#: What the bottom layer and ``outputs`` may import: themselves and the bottom layer.
BOTTOM = ("wf_widgets.errors", "wf_widgets.config", "wf_widgets._context", "wf_widgets._cards")


def test_results_codecs_cog_and_cards_import_nothing_from_a_higher_layer():
    outputs = ROOT / "wf_widgets" / "outputs"
    outputs = [outputs / "results.py", *sorted((outputs / "codecs").glob("*.py")),
               *sorted((outputs / "cog").glob("*.py"))]
    above = {
        str(path.relative_to(ROOT)): sorted(name for name in _wf_imports(path)
                                            if not name.startswith(("wf_widgets.outputs",) + BOTTOM))
        for path in outputs
    }
    assert {path: names for path, names in above.items() if names} == {}
    assert _wf_imports(ROOT / "wf_widgets" / "_cards.py") == set()


#: The lower layers: lazy values, geography, the catalog, the engine, and the stores beside them.
LOWER = sorted([*(ROOT / "wf_widgets").glob("values/*.py"), *(ROOT / "wf_widgets").glob("geo/*.py"),
                *(ROOT / "wf_widgets").glob("catalog/*.py"), *(ROOT / "wf_widgets").glob("engine/*.py"),
                ROOT / "wf_widgets" / "layers.py", ROOT / "wf_widgets" / "blobs.py"])
#: What each lower package may not import (the layers above it; values and geo sit side by side).
FORBIDDEN = {
    "values": ("geo", "outputs", "catalog", "engine", "delivery", "jobs", "server", "backend", "widgets", "cli",
               "demo"),
    "geo": ("values", "outputs", "catalog", "engine", "delivery", "jobs", "server", "backend", "widgets", "cli",
            "demo"),
    "catalog": ("engine", "delivery", "jobs", "server", "backend", "widgets", "cli", "demo"),
    "engine": ("delivery", "jobs", "server", "backend", "widgets", "cli", "demo"),
}
#: Facades kept as function-level imports for now (``Value.compute`` calls ``wf_widgets.compute``).
FACADES = {("wf_widgets/values/base.py", "wf_widgets.jobs.compute")}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level(tree: ast.Module) -> set[int]:
    """Ids of the import statements run when the module is imported (top level, or in a top-level if/try)."""
    found = set()
    for statement in tree.body:
        for node in ast.walk(statement) if isinstance(statement, (ast.If, ast.Try)) else [statement]:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.add(id(node))
    return found


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module an ``ImportFrom`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = _module(path).split(".") if path.name == "__init__.py" else _module(path).split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def test_lower_layers_import_the_package_at_module_level_only():
    inside = []
    for path in LOWER:
        tree = ast.parse(path.read_text())
        top = _module_level(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    _absolute(path, node)]
                inside += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names
                           if name.startswith("wf_widgets") and (path.relative_to(ROOT).as_posix(), name) not in FACADES]
    assert inside == []
    used = {path.relative_to(ROOT).as_posix(): sorted(name for name in _wf_imports(path) if "importlib" in name)
            for path in LOWER if "importlib" in path.read_text() or "__import__" in path.read_text()}
    assert used == {}


def test_lower_layers_import_no_higher_layer():
    above = {}
    for path in LOWER:
        package = _module(path).split(".")[1]
        bad = tuple(f"wf_widgets.{name}" for name in FORBIDDEN.get(package, FORBIDDEN["engine"]))
        names = sorted(name for name in _wf_imports(path) if name.startswith(bad)
                       and (path.relative_to(ROOT).as_posix(), name) not in FACADES)
        if names:
            above[str(path.relative_to(ROOT))] = names
    assert above == {}


def test_lower_layers_have_no_import_cycle():
    modules = {_module(path): path for path in LOWER}

    def target(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {name: {t for t in map(target, _wf_imports(path)) if t is not None and t != name}
             for name, path in modules.items()}
    # Strip modules importing nothing left in the graph until only cycles remain.
    while True:
        leaves = {name for name, targets in graph.items() if not targets & graph.keys()}
        if not leaves:
            break
        graph = {name: targets for name, targets in graph.items() if name not in leaves}
    assert sorted(graph) == []
