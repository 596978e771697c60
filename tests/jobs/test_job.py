"""The original client's Job API on real jobs: wait() raising, watch(), resubmit(), the progress text."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import pytest

import wf_widgets as wf
from wf_widgets._cards import progress_line, progress_text
from wf_widgets.errors import JobCancelled, JobInvalid, JobTimeoutError

from .conftest import slow_expected, slow_value


def test_wait_raises_the_error_of_a_failed_job_and_returns_a_succeeded_one(backend):
    bad = (wf.Int(1) // 0).compute(block=False)
    with pytest.raises(JobInvalid, match="division"):
        bad.wait(30)
    ok = (wf.Int(1) + 1).compute(block=False)
    assert ok.wait(30) is ok and ok.stage == "SUCCEEDED"


def test_wait_past_the_timeout_without_cancelling(backend):
    job = slow_value(200).compute(block=False)
    with pytest.raises(JobTimeoutError, match="not cancelled"):
        job.wait(timeout=0.2, cancel_on_timeout=False)
    assert job.refresh().stage != "CANCELLED"
    assert job.result(timeout=60) == slow_expected(200)


def test_watch_yields_each_change_and_raises_past_its_timeout_without_cancelling(backend):
    job = slow_value(200).compute(block=False)
    seen = []
    with pytest.raises(JobTimeoutError, match="Stopped watching.*not cancelled"):
        for j in job.watch(timeout=0.3):
            seen.append((j.stage, j.steps_done))
    assert seen and len(seen) == len(set(seen))  # only changes
    assert job.refresh().stage != "CANCELLED"
    stages = [j.stage for j in job.watch(timeout=60)]
    assert stages[-1] == "SUCCEEDED"
    assert [j.stage for j in job.watch()] == ["SUCCEEDED"]  # an ended job: itself, once


def test_cancelled_job_wait_raises_job_cancelled(backend):
    job = slow_value(200).compute(block=False)
    job.cancel()
    with pytest.raises(JobCancelled):
        job.wait(30)
    assert job.cancelled


def test_resubmit_from_another_process_rebuilds_the_value_from_the_stored_graph(backend):
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    job = (wf.Int(40) + 2).compute(tile, format="json", block=False, cache=False)
    job.wait(30)
    code = f"""
        import wf_widgets as wf
        old = wf.Job.get({job.id!r})
        print(old.version, old.cache_enabled, old.type.__name__, old.result_type)
        new = old.resubmit()
        print(new.id != old.id, new.geoctx == old.geoctx, new.format, new.result(timeout=60), new.version == wf.__version__)
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, WF_WIDGETS_HOME=str(backend.settings.home)))
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first == "None True Int Int"  # neither the version nor the cache flag are in the store
    assert second == "True True {'type': 'json'} b'42' True"
    assert job.runtime is not None and job.runtime.total_seconds() >= 0


def test_compute_accepts_cache(backend):
    assert (wf.Int(1) + 1).compute(cache=False) == 2
    assert wf.compute(wf.Int(2), cache=True) == 2
    assert (wf.Int(1) + 1).compute(block=False, cache=False).cache_enabled is False


def test_the_progress_line_is_the_originals():
    assert progress_line(3, 6, "FAILED") == "[######] | Steps: 3/6 | Stage: FAILED"  # full once ended
    assert progress_line(0, 0, "CANCELLED") == "[######] | Steps: 0/0 | Stage: CANCELLED"
    assert progress_line(5, 6, "RUNNING") == "[##### ] | Steps: 5/6 | Stage: RUNNING"
    text = progress_text(1, 2, "RUNNING")
    assert text == "\r[###   ] | Steps: 1/2 | Stage: RUNNING".ljust(79) and len(text) == 79


def test_a_timeout_draws_the_cancelling_note(backend):
    out = io.StringIO()
    job = slow_value(200).compute(block=False)
    with pytest.raises(JobTimeoutError):
        job.wait(timeout=0.2, progress_bar=out)
    text = out.getvalue()
    assert text.startswith(f"Job ID: {job.id}\n\r[")
    assert f"\nCancelling job {job.id}\n" in text
    assert backend.jobs.status(job.id)["cancel_requested"]  # and the job was cancelled
