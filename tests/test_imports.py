"""The backend imports without Jupyter packages (servers and cluster workers need that)."""

import subprocess
import sys

BACKEND = ["wf_widgets", "wf_widgets.outputs", "wf_widgets.outputs.codecs", "wf_widgets.jobs", "wf_widgets.engine",
           "wf_widgets.geo", "wf_widgets.catalog", "wf_widgets.delivery", "wf_widgets.server", "wf_widgets.cli"]
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
