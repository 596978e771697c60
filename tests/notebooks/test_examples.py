"""Every notebook in examples/ runs headless, cell by cell, against an isolated home folder."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_there_are_example_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"quickstart.ipynb", "map_export.ipynb", "formats_and_destinations.ipynb", "teaching.ipynb",
            "your_own_data.ipynb"} <= names


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_twice_on_the_same_home(path, tmp_path, monkeypatch):
    """A notebook runs top to bottom, then again in a new kernel on the same home folder.

    What the first run stored (products, bands, images, jobs) stays, as it does for a user
    who runs a notebook again, or for each visit of a Voila page: the second run must not
    trip over it. Nothing is deleted between the runs and no name is randomised.
    """
    monkeypatch.setenv("WF_WIDGETS_HOME", str(tmp_path / "home"))
    for var in ("WF_WIDGETS_SMTP_URL", "WF_WIDGETS_EMAIL", "WF_WIDGETS_PUBLIC_URL"):
        monkeypatch.delenv(var, raising=False)
    for run in ("first", "second"):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
        try:
            client.execute()
        except CellExecutionError as exc:  # names the cell and the traceback
            raise AssertionError(f"{path.name}, {run} run on the same home:\n{exc}") from None
