"""The jobs board with hundreds of jobs in JupyterLab, in real Chromium: pages, and jobs told apart.

One notebook: 250 jobs written straight into the job store as if launched together (their
ids share the time part), half of them SUCCEEDED, on one board. Every wait polls a condition.
"""

from __future__ import annotations

import re

import pytest

from .conftest import artifact, notebook_page, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

BOARD = ".wf-paged-board"

CELLS = [
    "import wf_widgets as wf\n"
    "from wf_widgets.jobs.plan import new_job_id\n"
    "backend = wf.get_backend()\n"
    "jobs = []\n"
    "for i in range(250):\n"
    "    job_id = new_job_id()\n"
    "    row = backend.jobs.create(job_id, kind='Int', graph={'op': 'x'}, geoctx=None, format={'type': 'json'},\n"
    "                              destination={'type': 'download'}, label=f'1024:16:10.0:13:{i % 50}:{i // 50}')\n"
    "    if i % 2:\n"
    "        backend.jobs.finish(job_id, 'SUCCEEDED', steps_done=3, steps_total=3)\n"
    "    jobs.append(wf.Job.get(job_id))\n"
    "board = wf.widgets.JobsBoard(jobs)\n"
    "board.add_class('wf-paged-board')\n"
    "board",
    "print('ALL-CELLS-RAN')",
]


@pytest.fixture(scope="module")
def page(lab, browser):
    with notebook_page(lab, browser, "board", CELLS,
                       f"() => document.querySelectorAll('{BOARD} .wf-jobs-row').length === 100") as pg:
        yield pg


def rows(page) -> list[tuple[str, str, str]]:
    """(context, job, full id) of each row shown."""
    return page.evaluate(f"() => Array.from(document.querySelectorAll('{BOARD} .wf-jobs-row')).map(tr =>"
                         " [tr.querySelector('.wf-jobs-label').textContent, tr.querySelector('.wf-jobs-id').textContent,"
                         " tr.dataset.id])")


def test_a_page_of_rows_with_counts_over_all_and_jobs_told_apart(page):
    try:
        counts = page.inner_text(f"{BOARD} .wf-jobs-counts")
        assert "QUEUED 125" in counts and "SUCCEEDED 125" in counts and "250 jobs" in counts
        assert "jobs 1–100 of 250 (page 1 of 3)" in page.inner_text(f"{BOARD} .wf-jobs-page")
        headers = page.evaluate(f"() => Array.from(document.querySelectorAll('{BOARD} th')).map(t => t.textContent)")
        assert headers[:2] == ["Context", "Job"]
        first = rows(page)
        assert len({full[:8] for _, _, full in first}) < 100  # the ids' first characters repeat ...
        assert len({short for _, short, _ in first}) == 100  # ... what the Job column shows does not
        assert all(re.fullmatch(r"[0-9a-f]{8}", short) and short in full for _, short, full in first)
        assert first[0][0] == "1024:16:10.0:13:0:0"
        assert page.is_disabled(f"{BOARD} button.wf-jobs-prev")

        page.click(f"{BOARD} button.wf-jobs-next")
        wait_js(page, f"() => document.querySelector('{BOARD} .wf-jobs-page').textContent"
                      ".includes('jobs 101–200 of 250 (page 2 of 3)')")
        wait_js(page, f"() => document.querySelector('{BOARD} .wf-jobs-row .wf-jobs-label').textContent"
                      " === '1024:16:10.0:13:0:2'")
        second = rows(page)
        assert len(second) == 100 and not {f for *_, f in first} & {f for *_, f in second}
        page.click(f"{BOARD} button.wf-jobs-next")
        wait_js(page, f"() => document.querySelectorAll('{BOARD} .wf-jobs-row').length === 50")
        assert page.is_disabled(f"{BOARD} button.wf-jobs-next")
        assert "250 jobs" in page.inner_text(f"{BOARD} .wf-jobs-counts")
        assert not page.js_errors, page.js_errors
    finally:
        page.locator(BOARD).screenshot(path=str(artifact("jobs-board-pages.png")))
