"""JobsBoard: the result cell's link actions (renew, revoke) and storage results, at the state level."""

from __future__ import annotations

import logging

import pytest

import wf_widgets as wf
from wf_widgets.server import stop_thread_server
from wf_widgets.server.testing import fetch
from wf_widgets.widgets import JobsBoard

DAY = 86400.0


def act(board, op, job_id=None, n=[0], **extra):
    """What the view does: set the _action trait."""
    n[0] += 1
    board.set_state({"_action": {"op": op, "id": job_id, "n": n[0], **extra}})


@pytest.fixture
def done_job(backend):
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(60)
    yield job
    stop_thread_server(backend)


def test_revoke_from_the_board_stops_the_link_and_shows_it(backend, done_job):
    board = JobsBoard([done_job]).refresh()
    link = board.rows[0]["url"]
    assert fetch(link).body == b"2"
    act(board, "revoke_link", done_job.id)
    assert board.callback_error == ""
    (row,) = board.rows
    assert row["revoked"] is True and "url" not in row and "expired" not in row
    r = fetch(link)
    assert r.status == 410 and b"revoked" in r.body
    assert backend.results.read(backend.jobs, backend.jobs.get(done_job.id)) == b"2"  # data kept
    board.close()


def test_revoke_and_delete_from_the_board(backend, done_job):
    board = JobsBoard([done_job]).refresh()
    act(board, "revoke_link", done_job.id, delete_data=True)
    (row,) = board.rows
    assert row["revoked"] is True and row["expired"] is True
    assert backend.jobs.get(done_job.id)["result_deleted"] == 1
    board.close()


def test_renew_from_the_board_shows_the_new_link_and_expiry(backend, done_job):
    board = JobsBoard([done_job]).refresh()
    old_url, old_expires = board.rows[0]["url"], board.rows[0]["expires"]
    backend.settings.now_offset_s = 2 * DAY
    act(board, "renew_link", done_job.id)  # the retention period (10 days) from now
    (row,) = board.rows
    assert row["expires"] == pytest.approx(old_expires + 2 * DAY, abs=5)
    assert row["url"] != old_url and fetch(row["url"]).body == b"2"
    act(board, "renew_link", done_job.id, days=25)
    assert board.rows[0]["expires"] == pytest.approx(backend.settings.time() + 25 * DAY, abs=5)
    board.close()


def test_link_action_errors_show_under_the_board(backend, done_job, caplog):
    board = JobsBoard([done_job]).refresh()
    with caplog.at_level(logging.ERROR, logger="wf_widgets.widgets"):
        act(board, "renew_link", done_job.id, days=31)
    assert board.callback_error.startswith("ValidationError: days must be a number of days above 0 and at most 30")
    act(board, "revoke_link", done_job.id)
    with caplog.at_level(logging.ERROR, logger="wf_widgets.widgets"):
        act(board, "renew_link", done_job.id)
    assert "a revoked link can't be renewed" in board.callback_error
    board.close()
