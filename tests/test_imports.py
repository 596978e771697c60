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
