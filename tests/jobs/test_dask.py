"""The scale-out seam: jobs run in Dask worker processes sharing the home folder.

A task carries a job's id alone: each test gives the workers their environment (the home,
the storage URL) with ``client.run``, as ``dask-worker`` would be started with it.
"""

import os

import distributed
import numpy as np
import pytest

import wf_widgets as wf

from .._workers import set_environ, worker_environ
from ..engine._helpers import make_product, upload


@pytest.fixture(scope="module")
def client(s3_server):
    """Two worker processes; started after the S3 server, so they inherit the AWS variables pointing at it."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                                       host="127.0.0.1")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_jobs_run_in_dask_worker_processes(make_backend, client):
    backend = make_backend(executor=client.get_executor(pure=False))
    client.run(set_environ, worker_environ(backend))
    jobs = [(wf.Int(i) * 3 + 1).compute(block=False) for i in range(40)]
    assert [job.result(timeout=120) for job in jobs] == [i * 3 + 1 for i in range(40)]
    rows = backend.jobs.many([j.id for j in jobs])
    assert {r["stage"] for r in rows.values()} == {"SUCCEEDED"}
    worker_pids = set(client.run(os.getpid).values())
    pids = {backend.jobs.get(j.id)["pid"] for j in jobs}
    assert pids <= worker_pids and os.getpid() not in pids


def test_dask_failures_and_formats_go_through_the_stores(make_backend, client):
    backend = make_backend(executor=client.get_executor(pure=False))
    client.run(set_environ, worker_environ(backend))
    assert (wf.Int(1) + 1).compute(format="json") == b"2"
    with pytest.raises(wf.JobComputeError, match="ZeroDivisionError"):
        (wf.Int(1) // 0).compute()


def test_dask_workers_share_no_folder_for_imagery_blobs_and_results(make_backend, client, s3_server):
    backend = make_backend(executor=client.get_executor(pure=False), storage_url=s3_server.new_url())
    client.run(set_environ, worker_environ(backend))
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 64, 0)
    make_product(backend.catalog, "test:shared", physical_range=None)
    xmin, _, _, ymax = tile.bounds
    upload(backend.catalog, "test:shared", "img", np.full((1, 64, 64), 7, np.uint16), tile.crs,
           (xmin, 10, 0, ymax, 0, -10))
    image = wf.Image.from_id("test:shared:img").compute(tile, block=False)  # the COG read from the bucket
    assert np.allclose(image.result(timeout=120).ndarray, 7.0)
    blob = wf.Array(np.arange(20_000, dtype=np.float64)).sum().compute(block=False, format="json")  # a blob
    assert float(blob.result(timeout=120)) == float(np.arange(20_000, dtype=np.float64).sum())
    rows = [backend.jobs.get(j.id) for j in (image, blob)]
    assert all(r["pid"] != os.getpid() for r in rows)  # run by the workers
    assert all(backend.storage.exists(backend.results.key(r["result_path"])) for r in rows)
    home = backend.settings.home
    assert not any((home / folder).exists() for folder in ("results", "blobs", "catalog/files/test:shared"))


def test_an_in_process_cluster_runs_jobs_with_the_launching_backend(make_backend):
    """Worker threads of the launching process (no environment of their own to read) use its Backend."""
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        backend = make_backend(executor=c.get_executor(pure=False))
        job = (wf.Int(2) * 21).compute(block=False)
        assert job.result(timeout=60) == 42
        assert backend.jobs.get(job.id, graph=False)["pid"] == os.getpid()
