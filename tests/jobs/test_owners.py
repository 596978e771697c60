"""Jobs belong to the user who launched them: others can't get, list or cancel them; a worker acts as the launcher."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Executor, Future

import numpy as np
import pytest

import wf_widgets as wf
from tests.engine._helpers import make_product, upload
from wf_widgets.errors import NotFound
from wf_widgets.jobs.runner import execute

TILE = wf.scenes.DLTile.from_latlon(35.6870, -105.9378, 10, 16, 0)


class HeldExecutor(Executor):
    """An executor that keeps what it is given (a queue that no worker of this process reads)."""

    def __init__(self):
        self.calls = []

    def submit(self, fn, /, *args, **kwargs):
        self.calls.append((fn, args, kwargs))
        return Future()


@pytest.fixture
def users(make_backend, database):
    """alice and bob, sharing a home and a database (the embedded SQLite files, then PostgreSQL)."""
    alice = make_backend(user="user:alice", email="alice@example.org", database_url=database)
    bob = make_backend(home=alice.settings.home, user="user:bob", database_url=database)
    wf.set_backend(alice)
    return alice, bob


def test_another_users_job_is_not_found_as_a_missing_one_is(users):
    alice, bob = users
    job = (wf.Int(1) + 1).compute(block=False, backend=alice).wait(30)
    assert wf.Job.get(job.id, alice).stage == "SUCCEEDED"
    with pytest.raises(NotFound) as theirs:
        wf.Job.get(job.id, bob)
    with pytest.raises(NotFound) as missing:
        wf.Job.get("f" * 48, bob)
    assert str(theirs.value).replace(job.id, "<id>") == str(missing.value).replace("f" * 48, "<id>")
    assert [r["id"] for r in bob.jobs.list(owner="user:bob")] == []
    assert [r["id"] for r in alice.jobs.list(owner="user:alice")] == [job.id]


def test_the_command_line_lists_and_cancels_a_users_own_jobs_only(backend):
    home = backend.settings.home
    job = (wf.Int(1) + 1).compute(block=False).wait(30)
    queued = wf.Backend(wf.Settings(home=home, user="user:alice"), executor=HeldExecutor())
    try:
        held = (wf.Int(2) + 1).compute(block=False, backend=queued)
    finally:
        queued.close()

    def cli(user, *args):
        env = dict(os.environ, WF_WIDGETS_HOME=str(home), WF_WIDGETS_USER=user)
        return subprocess.run([sys.executable, "-m", "wf_widgets.cli", "jobs", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    out = cli("user:bob")
    assert out.returncode == 0 and job.id not in out.stdout and "no jobs in" in out.stdout
    out = cli("user:bob", "cancel", held.id)
    assert out.returncode == 1 and f"No job with id '{held.id}'" in out.stderr
    assert held.refresh().stage == "QUEUED"
    out = cli("user:alice")
    assert job.id in out.stdout and held.id in out.stdout
    out = cli("user:alice", "cancel", held.id)
    assert out.returncode == 0 and held.refresh().stage == "CANCELLED"


def test_a_worker_runs_a_job_with_its_launchers_catalog_rights(users):
    """bob's worker runs alice's job on her private product: it reads it as alice (not as bob, who may not)."""
    alice, bob = users
    make_product(alice.catalog, "alice:private", readers=())
    upload(alice.catalog, "alice:private", "img", np.full((1, 16, 16), 7, np.uint16), TILE.crs, TILE.geotrans)
    held = wf.Backend(alice.settings, executor=HeldExecutor())
    try:
        job = wf.ImageCollection.from_id("alice:private").length().compute(TILE, block=False, backend=held)
    finally:
        held.close()
    assert job.stage == "QUEUED"
    final = execute(bob, job.id)  # bob's worker (as a Dask worker would, from the job's id alone)
    assert (final["stage"], final["error_code"]) == ("SUCCEEDED", "NONE"), final["error_message"]
    assert wf.Job.get(job.id, alice).result() == 1
    # bob himself may not read it: his own job on it is refused before it exists.
    with pytest.raises(wf.errors.PermissionDenied, match="user:bob may not read product 'alice:private'"):
        wf.ImageCollection.from_id("alice:private").length().compute(TILE, block=False, backend=bob)


def test_a_row_made_before_owners_were_recorded_is_everyones(users):
    alice, bob = users
    job = (wf.Int(1) + 1).compute(block=False, backend=alice).wait(30)
    alice.jobs.write_held()  # (rows this process holds: written before they are edited by hand)
    alice.jobs.db.write("UPDATE jobs SET owner = NULL, owner_email = NULL WHERE id = ?", (job.id,))
    assert wf.Job.get(job.id, bob).result() == 2
    assert [r["id"] for r in bob.jobs.list(owner="user:bob")] == [job.id]
    held = wf.Backend(bob.settings, executor=HeldExecutor())
    try:
        queued = (wf.Int(5) + 1).compute(block=False, backend=held)
    finally:
        held.close()
    alice.jobs.db.write("UPDATE jobs SET owner = NULL, owner_email = NULL WHERE id = ?", (queued.id,))
    assert execute(alice, queued.id)["stage"] == "SUCCEEDED"  # run as the worker's own user, as before
