"""The Job API on real jobs: Job.get by id, prefix or fragment; the original client's wait() raising,
watch(), resubmit(), the progress text."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import pytest

import wf_widgets as wf
from wf_widgets._cards import progress_line, progress_text
from wf_widgets.errors import JobCancelled, JobInvalid, JobTimeoutError, ValidationError
from wf_widgets.jobs.store import ID_TIME_CHARS

from .conftest import slow_expected, slow_value


def make(store, job_id: str, label: str | None = None) -> str:
    store.create(job_id, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                 destination={"type": "download"}, label=label)
    return job_id


def test_jobs_launched_together_differ_in_short_id_not_in_their_first_characters(backend):
    jobs = [(wf.Int(1) + i).compute(block=False) for i in range(5)]
    for job in jobs:
        job.wait(30)
    assert len({job.short_id for job in jobs}) == 5
    assert all(job.short_id == job.id[ID_TIME_CHARS:ID_TIME_CHARS + 8] for job in jobs)
    for job in jobs:
        assert wf.Job.get(job.short_id) == job
        assert wf.Job.get(job.short_id.upper()) == job
        assert wf.Job.get(job.id) == job


def test_a_unique_prefix_or_fragment_names_one_job(backend):
    store = backend.jobs
    time = "0191aaaaaaaa"
    a = make(store, time + "3fa9c2d1" + "0" * 28, label="1024:16:10.0:13:-34:1542")
    b = make(store, time + "3fa9d000" + "1" * 28, label="1024:16:10.0:13:-34:1543")
    c = make(store, "0191bbbbbbbb" + "77" * 18)
    assert wf.Job.get("3fa9c").id == a  # the random part's start
    assert wf.Job.get(a[:20]).id == a  # a prefix of the whole id
    assert wf.Job.get("0191b").id == c
    assert wf.Job.get(b).id == b
    assert wf.Job.get("3fa9d000" + "1" * 20).id == b  # a longer fragment than the index holds

    with pytest.raises(ValidationError, match=r"'3fa9' matches 2 jobs; give more of the id:\n  3fa9d000  "
                                              rf"{b}  QUEUED .*1024:16:10.0:13:-34:1543\n  3fa9c2d1  {a}") as info:
        wf.Job.get("3fa9")
    assert info.value.field == "job_id"
    with pytest.raises(ValidationError, match="'0191a' matches 2 jobs"):
        wf.Job.get("0191a")
    with pytest.raises(ValidationError, match="No job with id 'abcdef'"):
        wf.Job.get("abcdef")
    for bad in ("", "xyz", "3fa9-c", "0" * 49):
        with pytest.raises(ValidationError, match=rf"No job with id {bad!r} in .*are hexadecimal digits") as info:
            wf.Job.get(bad)
        assert info.value.field == "job_id"


def test_an_ambiguous_fragment_lists_a_few_and_counts_the_rest(backend):
    for i in range(12):
        make(backend.jobs, f"0191cccccc{i:02x}" + "ab" * 18)
    with pytest.raises(ValidationError, match=r"(?s)'0191cc' matches 12 jobs.*\n  \.\.\. and 7 more$") as info:
        wf.Job.get("0191cc")
    assert str(info.value).count("0191cccccc") == 5


def test_the_store_refuses_a_fragment_that_is_not_hexadecimal(backend):
    for bad in ("", "xyz", "3fa9-c", "0" * 49, None):
        with pytest.raises(ValidationError, match="1 to 48 hexadecimal digits") as info:
            backend.jobs.find_ids(bad)
        assert info.value.field == "job_id"


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
                         env=dict(os.environ, WF_WIDGETS_HOME=str(backend.settings.home), WF_WIDGETS_USER=backend.settings.user))
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
