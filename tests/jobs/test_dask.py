"""The scale-out seam: jobs run in Dask worker processes sharing the home folder."""

import os

import distributed
import pytest

import wf_widgets as wf


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                                       host="127.0.0.1")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_jobs_run_in_dask_worker_processes(make_backend, client):
    backend = make_backend(executor=client.get_executor(pure=False))
    jobs = [(wf.Int(i) * 3 + 1).compute(block=False) for i in range(40)]
    assert [job.result(timeout=120) for job in jobs] == [i * 3 + 1 for i in range(40)]
    rows = backend.jobs.many([j.id for j in jobs])
    assert {r["stage"] for r in rows.values()} == {"SUCCEEDED"}
    worker_pids = set(client.run(os.getpid).values())
    pids = {backend.jobs.get(j.id)["pid"] for j in jobs}
    assert pids <= worker_pids and os.getpid() not in pids


def test_dask_failures_and_formats_go_through_the_stores(make_backend, client):
    make_backend(executor=client.get_executor(pure=False))
    assert (wf.Int(1) + 1).compute(format="json") == b"2"
    with pytest.raises(wf.JobComputeError, match="ZeroDivisionError"):
        (wf.Int(1) // 0).compute()
