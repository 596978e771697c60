"""The runner's own thread pool (wf_widgets.jobs.pool): threads added as jobs block, never more than asked."""

from __future__ import annotations

import threading

import pytest

import wf_widgets as wf
from wf_widgets.jobs.pool import JobPool

from .test_lifecycle import wait_until


@pytest.fixture
def pool():
    made = []

    def factory(n):
        made.append(JobPool(n, thread_name_prefix="test-pool"))
        return made[-1]

    yield factory
    for p in made:
        p.shutdown(wait=True, cancel_futures=True)


def test_jobs_that_block_get_every_thread(pool):
    p = pool(4)
    barrier = threading.Barrier(4, timeout=30)  # passes only with 4 jobs running at once
    futures = [p.submit(barrier.wait) for _ in range(4)]
    assert sorted(f.result(timeout=30) for f in futures) == [0, 1, 2, 3]
    assert p.threads == 4


def test_never_more_threads_than_asked(pool):
    p = pool(3)
    running, most, lock, release = [0], [0], threading.Lock(), threading.Event()

    def job():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(30)
        with lock:
            running[0] -= 1

    futures = [p.submit(job) for _ in range(10)]
    wait_until(lambda: running[0] == 3)  # ramped up: every thread on a job that blocks
    release.set()
    for f in futures:
        f.result(timeout=30)
    assert most[0] == 3 and p.threads == 3


def test_a_burst_of_short_jobs_does_not_start_every_thread(pool):
    p = pool(8)
    futures = [p.submit(pow, i, 2) for i in range(500)]
    assert [f.result(timeout=30) for f in futures] == [i * i for i in range(500)]
    assert 1 <= p.threads < 8  # a thread is added only while every thread is on one job RAMP_S


def test_idle_threads_are_woken_as_new_threads_are_added(pool):
    p = pool(4)
    barrier = threading.Barrier(4, timeout=30)
    for f in [p.submit(barrier.wait) for _ in range(4)]:
        f.result(timeout=30)
    assert p.threads == 4  # all idle now
    futures = [p.submit(threading.get_ident) for _ in range(500)]  # a burst of short jobs: not all woken
    assert len({f.result(timeout=30) for f in futures}) < 4
    barrier = threading.Barrier(4, timeout=30)  # jobs that block: all woken again
    assert sorted(f.result(timeout=30) for f in [p.submit(barrier.wait) for _ in range(4)]) == [0, 1, 2, 3]
    assert p.threads == 4


def test_errors_go_to_the_future_and_the_thread_goes_on(pool):
    p = pool(1)

    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        p.submit(fail).result(timeout=30)
    assert p.submit(lambda: 42).result(timeout=30) == 42


def test_shutdown_runs_or_cancels_what_is_queued(pool):
    p = pool(1)
    gate = threading.Event()
    first = p.submit(gate.wait, 30)
    queued = [p.submit(lambda i=i: i) for i in range(3)]
    p.shutdown(wait=False)  # what was queued still runs
    gate.set()
    p.shutdown(wait=True)
    assert first.result() is True and [f.result() for f in queued] == [0, 1, 2]
    with pytest.raises(RuntimeError, match="after shutdown"):
        p.submit(lambda: None)

    p = pool(1)
    gate = threading.Event()
    first = p.submit(gate.wait, 30)
    queued = [p.submit(lambda: None) for _ in range(3)]
    wait_until(first.running)  # (a job not started yet would be cancelled too)
    p.shutdown(wait=False, cancel_futures=True)
    gate.set()
    p.shutdown(wait=True)
    assert first.result() is True and all(f.cancelled() for f in queued)


def test_the_default_runner_runs_on_a_job_pool_of_the_workers_asked(make_backend):
    backend = make_backend(workers=3)
    assert isinstance(backend.runner.executor, JobPool) and backend.runner.executor.max_workers == 3
    assert backend.runner.runs_in_process
    jobs = [(wf.Int(i) + 1).compute(block=False) for i in range(50)]
    assert [job.result(timeout=30) for job in jobs] == list(range(1, 51))


def test_a_pool_needs_a_thread():
    with pytest.raises(ValueError, match="max_workers must be at least 1, got 0"):
        JobPool(0)
