"""jobs/runner.py: the runner watches its futures (a task the executor loses fails its job at
once); graphs read from a job row are validated before evaluation and reach no secret."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor

import pytest

import wf_widgets as wf
from wf_widgets.delivery import HANDLERS
from wf_widgets.errors import JobCancelled, JobInterrupt, ValidationError
from wf_widgets.jobs import held, runner
from wf_widgets.jobs.plan import new_job_id, prepare, submit
from wf_widgets.jobs.store import HOST
from wf_widgets.outputs.normalize import normalize
from wf_widgets.values import Node, Value, imagery_rules, to_json
from wf_widgets.values.image import check_graph

from .._graphs import attribute_chain, raw, raw_graph, source
from ..engine._helpers import make_product
from .conftest import slow_expected, slow_value
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


def test_a_killed_pool_worker_fails_its_job_and_those_queued_behind_at_once(make_backend, pool, worker_env):
    backend = make_backend(executor=pool)
    worker_env(backend)
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


def test_a_blocking_compute_on_a_process_pool_raises_when_its_worker_is_killed(make_backend, pool, worker_env):
    backend = make_backend(executor=pool)
    worker_env(backend)
    killer = Killer(backend.jobs)
    killer.start()
    with pytest.raises(JobInterrupt, match="worker process stopped"):
        slow_value(2000).compute(timeout=60)
    killer.join()
    assert time.monotonic() - killer.killed_at < 5
    # The pool is broken for good: a new job fails at once instead of waiting forever.
    with pytest.raises(JobInterrupt, match="executor broke"):
        (wf.Int(1) + 1).compute(timeout=10)


class Recording(Executor):
    """Hands tasks to ``pool``, keeping each as it was submitted."""

    def __init__(self, pool):
        self.pool, self.calls = pool, []

    def submit(self, fn, /, *args, **kwargs):
        self.calls.append((fn, args, kwargs))
        return self.pool.submit(fn, *args, **kwargs)


def test_a_task_sent_to_a_worker_process_carries_the_job_id_alone(make_backend, pool, worker_env):
    recording = Recording(pool)
    backend = make_backend(smtp_url=SECRET_URL, executor=recording)
    worker_env(backend)  # the spawned worker's own environment: the home, not the launcher's settings
    job = (wf.Int(20) + 1).compute(block=False)
    assert job.result(timeout=60) == 21
    assert backend.jobs.get(job.id, graph=False)["pid"] != os.getpid()  # run by the worker
    assert recording.calls == [(runner.run_job, (job.id,), {})]
    assert b"hunter2" not in pickle.dumps(recording.calls)


def test_a_worker_process_uses_its_own_environment_not_the_launchers_home(make_backend, pool, worker_env, tmp_path):
    backend = make_backend(executor=pool)
    worker_env(backend, home=tmp_path / "worker-home")  # an empty home of its own: the job is not in it
    with pytest.raises(JobInterrupt, match=r"executor failed the task: No job with id .*worker-home, the database of this worker"):
        (wf.Int(20) + 1).compute(timeout=60)
    assert (tmp_path / "worker-home").exists()


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


SECRET_URL = "smtp://mailer:hunter2-secret@127.0.0.1:2525"
TILE = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 16, 0)


def smtp_graph() -> dict:
    nodes: dict = {}
    return raw_graph(nodes, attribute_chain(nodes, source(nodes), "source", "ctx", "backend", "settings", "smtp_url"),
                     "Str")


def key_graph() -> dict:
    nodes: dict = {}
    chain = attribute_chain(nodes, source(nodes), "source", "ctx", "backend", "signer", "key")
    return raw_graph(nodes, raw(nodes, "str", chain), "Str")


def savez_graph(path) -> dict:
    nodes: dict = {}
    return raw_graph(nodes, raw(nodes, "array_reduce", raw(nodes, "lit", str(path)), "savez", None), "Any")


@pytest.fixture
def secret_backend(make_backend):
    """A backend whose settings hold an SMTP password, with a readable product ``org:p``."""
    b = make_backend(smtp_url=SECRET_URL)
    make_product(b.catalog, "org:p")
    return b


def run_row(backend, graph: dict, kind: str) -> dict:
    """Create a job row holding ``graph`` and run it on the runner, as a worker would; the final row."""
    dest, fmt = normalize("download", "json", kind)
    job_id = new_job_id()
    backend.jobs.create(job_id, kind=kind, graph=graph, geoctx=TILE.to_dict(), format=fmt, destination=dest)
    backend.runner.submit(job_id).result(timeout=60)
    return backend.jobs.get(job_id)


def stored_bytes(backend) -> bytes:
    """Every byte the result store holds."""
    out = b""
    for folder, _, files in os.walk(backend.results.root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                out += f.read()
    return out


@pytest.mark.parametrize("make_graph", [smtp_graph, key_graph], ids=["smtp_url", "signing_key"])
def test_attribute_walks_in_a_job_row_fail_validation_and_leak_nothing(secret_backend, make_graph):
    row = run_row(secret_backend, make_graph(), "Str")
    assert row["stage"] == "FAILED" and row["error_code"] == "INVALID"
    assert "Unknown value 'source' for 'datetime_part.name'; allowed: 'year', 'month', 'day'" in row["error_message"]
    key = secret_backend.signer.key
    for text in (row["error_message"].encode(), stored_bytes(secret_backend)):
        assert b"hunter2" not in text and key.hex().encode() not in text and repr(key).encode() not in text


def test_attribute_walk_is_refused_before_a_job_exists(secret_backend):
    with pytest.raises(ValidationError, match="Unknown value 'source' for 'datetime_part.name'") as info:
        wf.compute(Value.from_json(smtp_graph()), TILE)
    assert info.value.field == "datetime_part.name" and info.value.value == "source"
    assert "year" in info.value.allowed
    assert secret_backend.jobs.list() == []


def test_array_reduce_cannot_write_files(secret_backend, tmp_path):
    target = tmp_path / "planted"
    row = run_row(secret_backend, savez_graph(target), "Any")
    assert row["stage"] == "FAILED"
    assert "Unknown value 'savez' for 'array_reduce.name'; allowed: 'sum', 'mean'" in row["error_message"]
    assert not list(tmp_path.glob("planted*"))


def test_a_job_row_over_max_memory_fails_before_reading(make_backend, monkeypatch):
    from wf_widgets.engine import raster

    b = make_backend(max_memory="1MB")
    make_product(b.catalog, "org:p")

    def no_reads(*args, **kwargs):
        raise AssertionError("a scene was read")

    monkeypatch.setattr(raster, "read_scene", no_reads)
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 1024, 0)
    node = Node("reduce", (Node("ic_from_id", ("org:p", None, None, None, "near")), "median", ["images"]))
    dest, fmt = normalize("download", "json", "Image")
    job_id = new_job_id()
    b.jobs.create(job_id, kind="Image", graph=json.loads(json.dumps(to_json(node, "Image"))), geoctx=tile.to_dict(), format=fmt,
                  destination=dest)
    b.runner.submit(job_id).result(timeout=60)
    row = b.jobs.get(job_id)
    assert row["stage"] == "FAILED" and row["error_code"] == "INVALID"
    assert "needs an estimated 18.0 MiB of memory, more than the limit max_memory = 976.6 KiB" in row["error_message"]


# -- many cheap jobs: few writes, claimed late, rows handed over --------------------------------
@pytest.fixture
def statements(backend, monkeypatch):
    """Every SQL statement run on the job store of ``backend`` (any thread), in order."""
    from wf_widgets import _sqlite

    seen: list[str] = []
    original, original_many = _sqlite._Connection.execute, _sqlite._Connection.executemany

    path = str(backend.jobs.path)  # (threads of earlier tests may still write to their own stores)

    def execute(self, sql, parameters=(), /):
        if str(self.wf_path) == path:
            seen.append(" ".join(sql.split()))
        return original(self, sql, parameters)

    def executemany(self, sql, rows, /):  # one entry per row
        rows = list(rows)
        if str(self.wf_path) == path:
            seen.extend([" ".join(sql.split())] * len(rows))
        return original_many(self, sql, rows)

    monkeypatch.setattr(_sqlite._Connection, "execute", execute)
    monkeypatch.setattr(_sqlite._Connection, "executemany", executemany)
    return seen


def _kinds(statements):
    return [s.split()[0] for s in statements]


@pytest.mark.parametrize("block", [True, False])
def test_short_jobs_run_in_this_process_write_their_rows_once_in_groups(backend, statements, block, monkeypatch):
    """Run in the caller's thread or by the runner's pool, a short job's row is held, then inserted once,
    ended, in one transaction with the other held rows: no UPDATE, no read of the cancel flag, no RETURNING."""
    (wf.Int(0) + 1).compute()  # the first launch sweeps
    backend.jobs.write_held()
    monkeypatch.setattr(held, "HOLD_UNENDED_S", 3600.0)  # only ended rows are written by the ticker meanwhile
    statements.clear()
    if block:
        values = [(wf.Int(i) + 1).compute() for i in range(20)]
    else:
        values = [job.result(timeout=30) for job in [(wf.Int(i) + 1).compute(block=False) for i in range(20)]]
    assert values == list(range(1, 21))
    backend.jobs.write_held()
    kinds = _kinds(statements)
    assert set(kinds) <= {"BEGIN", "INSERT", "COMMIT"} and kinds.count("INSERT") == 20
    assert kinds.count("BEGIN") == kinds.count("COMMIT") <= 2  # one group (two if the ticker ran meanwhile)
    rows = backend.jobs.list(limit=20)
    assert [r["stage"] for r in rows] == ["SUCCEEDED"] * 20
    assert all(r["started"] is not None and r["finished"] >= r["started"] for r in rows)


def test_a_held_row_is_written_before_this_process_reads_the_store(backend):
    launch = prepare(wf.Int(1) + 1)
    job = submit(launch, run_here=True)
    count = "SELECT count(*) FROM jobs WHERE id = ?"
    assert backend.jobs.db.read(count, (job.id,)).fetchone()[0] == 0  # held: not written yet
    assert backend.jobs.holds(job.id)
    assert [r["id"] for r in backend.jobs.list(stages=["PREPARING"])] == [job.id]  # any read writes it first
    assert not backend.jobs.holds(job.id)
    job._run_here(launch.value.node)
    assert backend.jobs.get(job.id, graph=False)["stage"] == "SUCCEEDED" and job.result() == 2


def test_a_held_row_of_an_ended_job_is_written_within_a_tick(backend):
    (wf.Int(0) + 1).compute()  # the first launch sweeps
    backend.jobs.write_held()
    assert (wf.Int(1) + 1).compute() == 2
    succeeded = "SELECT count(*) FROM jobs WHERE stage = 'SUCCEEDED'"
    assert backend.jobs.db.read(succeeded).fetchone()[0] == 1  # the second one is held
    wait_until(lambda: backend.jobs.db.read(succeeded).fetchone()[0] == 2, timeout=10 * held.DEFER_INSERT_S)


@pytest.mark.parametrize("block", [True, False])
def test_the_final_row_a_job_gets_from_its_worker_is_the_stored_row(backend, block):
    launch = prepare(wf.Int(1) + 1)
    job = submit(launch, run_here=block)
    if block:
        job._run_here(launch.value.node)
    else:
        job.wait(30)
    stored = backend.jobs.get(job.id, graph=False)
    assert job._row == stored  # handed over by the worker, not read back: the same
    assert stored["stage"] == "SUCCEEDED" and stored["started"] is not None
    assert stored["created"] <= stored["started"] <= stored["finished"]
    assert (stored["host"], stored["pid"], stored["heartbeat"]) == (HOST, os.getpid(), None)
    assert job.result() == wf.Job.get(job.id).result() == 2


def test_a_blocking_job_that_runs_long_shows_in_the_store_while_it_runs(backend, monkeypatch):
    """Its row is held (one write for short jobs), but not past HOLD_UNENDED_S, even with no progress write."""
    (wf.Int(0) + 1).compute()  # the first launch sweeps
    backend.jobs.write_held()
    monkeypatch.setattr(runner, "PROGRESS_EVERY_S", 3600.0)  # only the ticker can write it
    monkeypatch.setattr(held, "HOLD_UNENDED_S", 0.3)
    seen: dict = {}
    preparing = "SELECT id FROM jobs WHERE stage = 'PREPARING'"  # read past the store: no held row written first

    def watch():
        wait_until(lambda: backend.jobs.db.read(preparing).fetchall(), timeout=30)
        seen["row"] = {"id": backend.jobs.db.read(preparing).fetchone()[0]}

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    assert slow_value(100).compute() == slow_expected(100)
    watcher.join()
    assert time.monotonic() - started > held.HOLD_UNENDED_S
    row = backend.jobs.get(seen["row"]["id"], graph=False)
    assert (row["stage"], row["pid"], row["heartbeat"]) == ("SUCCEEDED", os.getpid(), None)
    assert len(backend.jobs.list()) == 2  # written once each: no duplicate of the held row


def test_a_job_cancelled_while_it_runs_unclaimed_ends_cancelled_and_keeps_nothing(backend, monkeypatch):
    monkeypatch.setattr(runner, "PROGRESS_EVERY_S", 3600.0)  # no progress write: it stays unclaimed
    job = slow_value(25).compute(block=False)
    wait_until(lambda: job.id in runner._heartbeat.running)  # a thread runs it
    assert backend.jobs.status(job.id)["stage"] == "QUEUED"
    assert job.cancel() is True
    with pytest.raises(JobCancelled):
        job.wait(timeout=30)
    assert job.stage == "CANCELLED"
    wait_until(lambda: job.id not in runner._heartbeat.running)  # the run ended
    row = backend.jobs.get(job.id, graph=False)
    assert (row["stage"], row["error_message"], row["result_path"]) == ("CANCELLED", "Cancelled before it started",
                                                                      None)
    assert [p.name for p in backend.results.root.iterdir() if p.name.startswith(job.id)] == []


def test_an_unclaimed_job_is_claimed_at_its_first_progress_write(backend):
    job = slow_value(50).compute(block=False)
    wait_until(lambda: job.refresh().stage == "RUNNING")  # 100 ms in: claimed, then progress
    row = backend.jobs.get(job.id, graph=False)
    assert row["started"] is not None and row["heartbeat"] is not None and row["pid"] == os.getpid()
    assert job.result(timeout=60) == slow_expected(50)
    assert backend.jobs.get(job.id, graph=False)["started"] == row["started"]


@pytest.mark.parametrize("discardable", [True, False])
def test_a_delivery_that_cannot_be_undone_claims_the_job_first(backend, monkeypatch, discardable):
    handler = HANDLERS["download"]
    monkeypatch.setattr(handler, "discardable", discardable)
    seen = []
    deliver = type(handler).deliver

    def spy(self, b, row, value):
        seen.append(b.jobs.status(row["id"])["stage"])
        return deliver(self, b, row, value)

    monkeypatch.setattr(type(handler), "deliver", spy)
    assert (wf.Int(1) + 1).compute(block=False).result(timeout=30) == 2
    assert seen == ["QUEUED" if discardable else "PREPARING"]


def test_a_process_that_dies_running_an_unclaimed_job_has_it_reaped(backend):
    code = textwrap.dedent("""
        import os, sys
        sys.path.insert(0, sys.argv[1])
        from conftest import slow_value
        from wf_widgets.jobs import runner
        runner.PROGRESS_EVERY_S = 3600.0  # never claimed while it runs
        job = slow_value(2000).compute(block=False)
        import time
        while job.id not in runner._heartbeat.running:
            time.sleep(0.01)
        print(job.id, flush=True)
        job.wait()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code, os.path.dirname(__file__)],
                            env=dict(os.environ, WF_WIDGETS_HOME=str(backend.settings.home),
                                     WF_WIDGETS_USER=backend.settings.user),
                            stdout=subprocess.PIPE, text=True)
    try:
        job_id = proc.stdout.readline().strip()
        wait_until(lambda: backend.jobs.status(job_id) is not None)  # its row, held there, within a tick
        assert backend.jobs.status(job_id)["stage"] == "QUEUED"
        assert backend.jobs.reap_stale() == 0  # its process lives
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    job = wf.Job.get(job_id)
    assert (job.stage, job._row["error_code"]) == ("FAILED", "INTERRUPT")


def test_a_task_run_again_after_its_worker_died_ends_the_job_interrupted(make_backend):
    """Dask reruns the task of a worker that died: the rerun finds the job claimed by a dead process and reaps it."""
    from .test_owners import HeldExecutor

    backend = make_backend(executor=HeldExecutor())
    job = (wf.Int(1) + 1).compute(block=False)
    assert backend.jobs.start(job.id)["stage"] == "PREPARING"  # claimed by "a worker"...
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    backend.jobs.db.write("UPDATE jobs SET pid = ? WHERE id = ?", (gone.pid, job.id))  # ...that died
    final = runner.run_job(job.id)
    assert (final["stage"], final["error_code"]) == ("FAILED", "INTERRUPT")


@pytest.mark.parametrize("block", [True, False])
def test_a_graph_prepared_here_without_imagery_is_inferred_once(backend, monkeypatch, block):
    """prepare() infers the graph statically; its run counts the steps without inferring it again."""
    (wf.Int(0) + 1).compute()  # the first launch sweeps
    calls = []
    original = imagery_rules.apply
    monkeypatch.setattr(imagery_rules, "apply", lambda *a, **k: (calls.append(a[1]), original(*a, **k))[1])
    value = (wf.Int(1) + 2) * 3
    check_graph(value, backend)
    once, calls[:] = sorted(calls), []
    assert "add" in once and "mul" in once
    job = value.compute(block=False) if not block else None
    assert (job.result(timeout=30) if job is not None else value.compute()) == 9
    assert sorted(calls) == once  # by prepare(), not again by the run
    row = backend.jobs.get(job.id if job is not None else backend.jobs.list()[0]["id"], graph=False)
    nodes = len(list(value.node.walk()))
    assert (row["stage"], row["steps_done"], row["steps_total"]) == ("SUCCEEDED", nodes + 1, nodes + 1)
