"""The runner watches its futures: a task the executor loses fails its job at once."""

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

import wf_widgets as wf
from wf_widgets.errors import JobInterrupt

from .conftest import slow_value
from .test_lifecycle import wait_until


@pytest.fixture
def pool():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as p:
        yield p


class Killer(threading.Thread):
    """SIGKILLs the worker process of the first job seen RUNNING (with a step done) in ``store``."""

    def __init__(self, store):
        super().__init__(daemon=True)
        self.store, self.killed_at, self.job_id = store, None, None

    def run(self):
        def running():
            rows = [r for r in self.store.list(limit=10, stages=["RUNNING"]) if r["steps_done"] > 0]
            return rows[0] if rows else None

        wait_until(running, timeout=60)
        row = self.store.get(running()["id"], graph=False)
        assert row["pid"] != os.getpid()
        self.job_id = row["id"]
        os.kill(row["pid"], signal.SIGKILL)
        self.killed_at = time.monotonic()


def test_a_killed_pool_worker_fails_its_job_and_those_queued_behind_at_once(make_backend, pool):
    backend = make_backend(executor=pool)
    running = slow_value(2000).compute(block=False)
    queued = [(wf.Int(i) + 1).compute(block=False) for i in range(2)]  # behind it: the pool has one worker
    killer = Killer(backend.jobs)
    killer.start()
    with pytest.raises(JobInterrupt, match="worker process stopped before the job finished"):
        running.result(timeout=60)
    killer.join()
    assert killer.job_id == running.id
    assert time.monotonic() - killer.killed_at < 5
    for job in queued:
        with pytest.raises(JobInterrupt, match="executor broke"):
            job.result(timeout=5)
        assert job.stage == "FAILED" and job._row["error_code"] == "INTERRUPT"


def test_a_blocking_compute_on_a_process_pool_raises_when_its_worker_is_killed(make_backend, pool):
    backend = make_backend(executor=pool)
    killer = Killer(backend.jobs)
    killer.start()
    with pytest.raises(JobInterrupt, match="worker process stopped"):
        slow_value(2000).compute(timeout=60)
    killer.join()
    assert time.monotonic() - killer.killed_at < 5
    # The pool is broken for good: a new job fails at once instead of waiting forever.
    with pytest.raises(JobInterrupt, match="executor broke"):
        (wf.Int(1) + 1).compute(timeout=10)


def test_jobs_dropped_by_a_shutdown_end(make_backend):
    from concurrent.futures import ThreadPoolExecutor

    executor = ThreadPoolExecutor(1)
    make_backend(executor=executor)
    first = slow_value(200).compute(block=False)
    wait_until(lambda: first.refresh().stage != "QUEUED")  # the pool's one thread took it
    behind = (wf.Int(1) + 1).compute(block=False)
    executor.shutdown(wait=False, cancel_futures=True)  # drops the queued task
    with pytest.raises(JobInterrupt, match="dropped before it ran"):
        behind.result(timeout=5)
    assert first.result(timeout=60) is not None
