"""The jobs board's link and retry buttons in JupyterLab (with the server extension), in real Chromium.

One notebook: two finished download jobs (one with an hour left on its link) and two jobs
whose delivery failed (a busy disk: the notebook makes the download destination raise a
transient error while they run, then puts it back, so their retries succeed), on one board.
The test clicks *revoke*, *renew* and *Retry failed (2)* in the browser and checks what each
did in the job store (read here, from the notebook's home) and on the link itself, fetched
from this process as anyone holding it would. Every wait polls a condition.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from wf_widgets.backend import Backend
from wf_widgets.config import Settings

from .conftest import artifact, copy_log, notebook_page, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

BOARD = ".wf-actions-board"
DAY = 86400.0

CELLS = [
    "import wf_widgets as wf\n"
    "from wf_widgets.delivery import HANDLERS\n"
    "backend = wf.get_backend()\n"
    "kept = (wf.Int(1) + 1).compute(format='json', block=False).wait(60)\n"
    "revoked = (wf.Int(2) + 1).compute(format='json', block=False).wait(60)\n"
    "backend.jobs.renew_link(kept.id, backend.settings.time() + 3600)  # an hour left\n"
    "download = type(HANDLERS['download'])\n"
    "deliver = download.deliver\n"
    "def busy(self, b, row, value):\n"
    "    raise wf.errors.JobTransient('the disk was busy')\n"
    "download.deliver = busy\n"
    "failed = [wf.Int(i).compute(format='json', block=False) for i in (5, 6)]\n"
    "for job in failed:\n"
    "    try:\n"
    "        job.wait(60)\n"
    "    except wf.errors.JobTransient:\n"
    "        pass\n"
    "download.deliver = deliver\n"
    "board = wf.widgets.JobsBoard([kept, revoked, *failed])\n"
    "board.add_class('wf-actions-board')\n"
    "board",
    "print('ALL-CELLS-RAN')",
]


@pytest.fixture(scope="module")
def page(extension_lab, browser):
    with notebook_page(extension_lab, browser, "board-actions", CELLS,
                       f"() => document.querySelectorAll('{BOARD} .wf-jobs-row').length === 4", height=1000, timeout_s=120) as pg:
        yield pg


@pytest.fixture(scope="module")
def store(extension_lab):
    """The job store of the notebook's kernel (its WF_WIDGETS_HOME), read from this process."""
    backend = Backend(Settings(home=extension_lab.home), sweep=False)
    yield backend.jobs
    backend.close()


def row(page, i: int) -> str:
    return f"{BOARD} tbody tr.wf-jobs-row:nth-child({i + 1})"


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_revoke_renew_and_retry_failed_from_the_board(page, store, extension_lab):
    try:
        page.locator(BOARD).scroll_into_view_if_needed()
        ids = page.eval_on_selector_all(f"{BOARD} .wf-jobs-row", "trs => trs.map(tr => tr.dataset.id)")
        stages = page.eval_on_selector_all(f"{BOARD} .wf-jobs-row", "trs => trs.map(tr => tr.dataset.stage)")
        assert stages == ["SUCCEEDED", "SUCCEEDED", "FAILED", "FAILED"], stages
        kept, revoked, *failed = ids
        assert [store.get(i)["error_code"] for i in failed] == ["TRANSIENT", "TRANSIENT"]
        for i in (0, 1):  # the buttons next to "copy link"
            assert page.eval_on_selector_all(f"{row(page, i)} .wf-jobs-result button",
                                             "bs => bs.map(b => b.textContent)") == ["copy link", "renew", "revoke"]
        retry = f"{BOARD} button.wf-jobs-retry-failed"
        assert page.inner_text(retry) == "Retry failed (2)" and page.is_enabled(retry)

        # revoke: the link answers 410 at once (served by the Jupyter server, not the kernel); data kept
        link = page.get_attribute(f"{row(page, 1)} a.wf-jobs-download", "href")
        assert link.startswith(f"{extension_lab.url}/wf-widgets/") and get(link) == (200, b"3")
        page.click(f"{row(page, 1)} button.wf-jobs-revoke-link")
        wait_js(page, f"() => {{ const c = document.querySelector('{row(page, 1)} .wf-jobs-revoked');"
                      " return c && c.textContent === 'link revoked'; }", timeout_s=30)
        assert not page.query_selector(f"{row(page, 1)} a.wf-jobs-download")
        assert store.get(revoked)["link_revoked"] == 1 and not store.get(revoked)["result_deleted"]
        status, body = get(link)
        assert status == 410 and b"revoked" in body, (status, body)

        # renew: the retention period from now instead of the hour left; a new link that works
        before = store.get(kept)["expires"]
        old_link = page.get_attribute(f"{row(page, 0)} a.wf-jobs-download", "href")
        assert "(expires in 59m" in page.inner_text(f"{row(page, 0)} .wf-jobs-expiry")
        page.click(f"{row(page, 0)} button.wf-jobs-renew-link")
        wait_js(page, f"() => {{ const a = document.querySelector('{row(page, 0)} a.wf-jobs-download');"
                      f" return a && a.href !== {json.dumps(old_link)}; }}", timeout_s=30)
        after = store.get(kept)["expires"]
        assert after > before + DAY, (before, after)
        shown = float(page.get_attribute(f"{row(page, 0)} .wf-jobs-expiry", "data-expires"))
        assert shown == pytest.approx(after, abs=0.1)
        assert "d " in page.inner_text(f"{row(page, 0)} .wf-jobs-expiry")  # "(expires in 9d 23h)"
        new_link = page.get_attribute(f"{row(page, 0)} a.wf-jobs-download", "href")
        assert get(new_link) == (200, b"2")

        # Retry failed (2): a new job for each failed one, in its row, and they succeed this time
        page.click(retry)
        wait_js(page, f"() => {{ const rows = Array.from(document.querySelectorAll('{BOARD} .wf-jobs-row'));"
                      f" return rows.length === 4 && rows.slice(2).every(tr => tr.dataset.stage === 'SUCCEEDED'"
                      f" && !{json.dumps(failed)}.includes(tr.dataset.id)); }}", timeout_s=60)
        new = page.eval_on_selector_all(f"{BOARD} .wf-jobs-row", "trs => trs.map(tr => tr.dataset.id)")
        assert new[:2] == [kept, revoked]
        for old_id, new_id in zip(failed, new[2:]):
            old_row, new_row = store.get(old_id), store.get(new_id)
            assert old_row["stage"] == "FAILED" and new_row["stage"] == "SUCCEEDED"
            for key in ("graph", "format", "destination"):
                assert new_row[key] == old_row[key]
            assert page.get_attribute(f"{BOARD} tr[data-id='{new_id}'] .wf-jobs-id", "title") \
                == f"{new_id} (retry of {old_id})"
        values = [get(page.get_attribute(f"{row(page, i)} a.wf-jobs-download", "href")) for i in (2, 3)]
        assert values == [(200, b"5"), (200, b"6")]
        wait_js(page, f"() => document.querySelector('{retry}').disabled", timeout_s=30)
        assert page.inner_text(retry) == "Retry failed"
        assert "SUCCEEDED 4" in page.inner_text(f"{BOARD} .wf-jobs-counts")
        assert page.inner_text(f"{BOARD} .wf-jobs-callback-error") == ""
        assert not page.js_errors, page.js_errors
    except Exception:
        copy_log(extension_lab, "jupyterlab-board-actions.log")
        raise
    finally:
        page.locator(BOARD).screenshot(path=str(artifact("jobs-board-actions.png")))
