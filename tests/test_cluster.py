"""The scale-out scenario: a Dask cluster whose workers share no folder with the notebook.

PostgreSQL holds the stores, the S3 server (moto) the rasters and results; a
``distributed.LocalCluster`` of 2 worker processes, each with an empty home of its own
(:class:`WorkerHome`), runs the spec's bulk pattern (one catalog upload job per DLTile) while
one worker is killed; a ``wf-widgets serve`` with a third empty home serves a download link.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import distributed
import pytest
from shapely.geometry import box

import wf_widgets as wf
from wf_widgets.backend import Backend, worker_backend
from wf_widgets.config import Settings
from wf_widgets.demo_data import PRODUCT_ID as DEMO_PRODUCT
from wf_widgets.demo_data import make_demo_data
from wf_widgets.errors import JobInterrupt
from wf_widgets.jobs import runner
from wf_widgets.jobs import store as job_store
from wf_widgets.server.testing import free_port, wait_for

from ._workers import set_environ
from .jobs.conftest import slow_value

PRODUCT = "org:my_product_id"
CENTER = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 1024, 0).geometry.centroid
#: 16 DLTiles of 64 pixels of 40 m inside the demo area.
TILES = wf.DLTile.from_shape(box(CENTER.x - 0.035, CENTER.y - 0.035, CENTER.x + 0.035, CENTER.y + 0.035), 40, 64, 0)


#: Seconds after which a job whose heartbeat stopped is reaped on another host (60 s in production).
STALE_S = 10.0


class WorkerHome(distributed.WorkerPlugin):
    """Gives each worker process, when it starts (a restarted one too), an empty home of its own under
    ``root`` and the cluster's database and store: the environment ``dask-worker`` would be started with.

    Each also acts as a host of its own (its job rows name ``worker-host-<pid>``), so that a killed
    worker's job is found dead by its heartbeat, as across machines, with heartbeats every second
    and :data:`STALE_S` for the 60 s of production.
    """

    def __init__(self, root: str, env: dict[str, str]):
        self.root, self.env = root, env

    def setup(self, worker: distributed.Worker) -> None:
        home = Path(self.root) / f"worker-{os.getpid()}"
        home.mkdir(parents=True)
        set_environ({**self.env, "WF_WIDGETS_HOME": str(home)})
        job_store.HOST, job_store.STALE_AFTER_S = f"worker-host-{os.getpid()}", STALE_S
        runner.HEARTBEAT_EVERY_S = 1.0


def _home_of_this_worker() -> str:
    return str(worker_backend().settings.home)


def _bucket(server, storage_url: str) -> tuple[set[str], list]:
    """Keys under the prefix of ``storage_url`` (relative to it), and the multipart uploads begun and not ended."""
    bucket, _, prefix = storage_url.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        keys.update(item["Key"][len(prefix) + 1:] for item in page.get("Contents", ()))
    return keys, s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix + "/").get("Uploads", [])


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``: relative path -> (size, mtime in ns)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture
def scenario(postgres, s3_server, tmp_path):
    """The stores (a fresh PostgreSQL schema, a fresh S3 prefix) holding the demo product; the cluster; the server."""
    env = {"WF_WIDGETS_DATABASE_URL": postgres.new_schema_url(), "WF_WIDGETS_STORAGE_URL": s3_server.new_url()}
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    stores = {"database_url": env["WF_WIDGETS_DATABASE_URL"], "storage_url": env["WF_WIDGETS_STORAGE_URL"]}
    admin = Backend(Settings(home=tmp_path / "admin", user="user:demo", **stores), sweep=False)
    make_demo_data(admin)  # public-read, into PostgreSQL and the bucket
    admin.close()

    serve_home = tmp_path / "serve-home"
    serve_home.mkdir()
    serve_env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    serve_env.update(env, WF_WIDGETS_HOME=str(serve_home), WF_WIDGETS_PUBLIC_URL=public_url)
    server = subprocess.Popen([sys.executable, "-m", "wf_widgets.cli", "serve", "--host", "127.0.0.1", "--port",
                               str(port)], env=serve_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    # Worker processes inherit the AWS variables (the s3_server fixture set them); WorkerHome adds the rest.
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       host="127.0.0.1")
    client = distributed.Client(cluster)
    client.register_plugin(WorkerHome(str(tmp_path / "workers"), env))
    notebook_home = tmp_path / "notebook"
    notebook_home.mkdir()
    backend = Backend(Settings(home=notebook_home, user="user:alice", public_url=public_url, **stores),
                      executor=client.get_executor(pure=False))
    previous = wf.set_backend(backend)
    try:
        yield backend, client, server, tmp_path / "workers"
    finally:
        wf.set_backend(previous)
        backend.close()
        client.close()
        cluster.close()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


def test_bulk_uploads_on_a_cluster_sharing_no_folder(scenario, s3_server, monkeypatch):
    backend, client, server, workers_root = scenario
    monkeypatch.setattr(job_store, "STALE_AFTER_S", STALE_S)
    notebook_home = backend.settings.home
    homes = set(client.run(_home_of_this_worker).values())
    assert len(homes) == 2 and all(Path(h).parent == workers_root for h in homes)  # two homes, none the notebook's

    product = wf.catalog.Product(id=PRODUCT, name="my_product_id").save()
    for i, name in enumerate(("vv", "vh")):
        wf.catalog.MicrowaveBand(name=name, product_id=PRODUCT, data_type="UInt16", nodata=0, band_index=i,
                                 data_range=(0, 10000), physical_range=(-50.0, 10.0)).save()
    composite = wf.ImageCollection.from_id(DEMO_PRODUCT, "2020-01-01", "2020-02-15").mean(axis="images")
    storage = backend.storage
    objects_before, _ = _bucket(s3_server, backend.settings.storage_url)
    home_before = _tree(notebook_home)

    # The job the killed worker runs: a catalog upload that computes for a while first.
    doomed_image = wf.catalog.Image(name="doomed", product_id=PRODUCT)
    doomed = (composite + slow_value(400) * 0).compute(
        TILES[0], destination={"type": "catalog", "image": doomed_image, "rescale": True, "change_dtype": True},
        block=False)
    # The spec's bulk pattern: one upload job per DLTile.
    assert len(TILES) == 16
    images = [wf.catalog.Image(name=tile.key.replace(":", "_"), product_id=PRODUCT) for tile in TILES]
    jobs = [composite.compute(tile, destination={"type": "catalog", "image": image, "rescale": True,
                                                 "change_dtype": True}, block=False)
            for tile, image in zip(TILES, images)]
    download = composite.compute(TILES[1], format="geotiff", block=False)

    def running():
        row = backend.jobs.get(doomed.id, graph=False)
        return row if row["stage"] == "RUNNING" and row["steps_done"] > 0 else None

    row = wait_for(running, timeout=60, what="the slow job running")
    worker_pids = set(client.run(os.getpid).values())
    assert row["pid"] in worker_pids and row["host"] == f"worker-host-{row['pid']}" != job_store.HOST
    os.kill(row["pid"], signal.SIGKILL)
    killed_at = time.time()

    with pytest.raises(JobInterrupt, match="worker process stopped before the job finished"):
        doomed.result(timeout=60)
    assert (doomed.stage, doomed._row["error_code"]) == ("FAILED", "INTERRUPT")
    # Found dead by its heartbeat (another host's pid can't be looked at): STALE_S after its last one.
    assert doomed._row["finished"] - killed_at > STALE_S - 1.5
    for job in jobs + [download]:
        job.wait(120)
    assert {(job.stage, job._row["error_code"], job._row["error_message"]) for job in jobs + [download]} == \
        {("SUCCEEDED", "NONE", None)}
    run_by = {backend.jobs.get(job.id, graph=False)["pid"] for job in jobs}
    assert os.getpid() not in run_by

    # Every image readable back from the notebook's side.
    saved = {image.name: image for image in product.images()}
    assert sorted(saved) == sorted(image.name for image in images)  # not the doomed one
    for tile, image in zip(TILES, images):
        data = wf.catalog.Image.get(image.id).ndarray()
        assert data.shape == (2, 64, 64) and data.count() > 0
        assert tuple(saved[image.name].geotrans) == tuple(tile.geotrans)

    # The bucket holds exactly what the jobs published: the 16 rasters and the download's result.
    objects_after, unfinished = _bucket(s3_server, backend.settings.storage_url)
    assert unfinished == []
    added = objects_after - objects_before
    expected = {f"catalog/{item['href']}" for image in saved.values() for item in image.files}
    expected.add(backend.results.key(download._row["result_path"]))
    assert added == expected and len(expected) == 17

    # The download link, served by `wf-widgets serve` with an empty home, its base from WF_WIDGETS_PUBLIC_URL.
    url = download.url
    assert url.startswith(backend.settings.public_url + "/")
    body = wait_for(lambda: _fetch(url), timeout=30, what="the link served")
    assert body == download.result() and body[:4] in (b"II*\x00", b"MM\x00*")
    assert server.poll() is None

    # A COG read from the store fetches byte ranges, not the whole object.
    scene = wf.catalog.Image.get(f"{DEMO_PRODUCT}:{wf.catalog.Product.get(DEMO_PRODUCT).images()[0].name}")
    key = f"catalog/{scene.files[0]['href']}"
    size = storage.head(key).size
    first = len(s3_server.served)
    assert max(scene.ndarray(max_size=64).shape[1:]) <= 64
    reads = [r for r in s3_server.served[first:] if r.path.endswith(key) and r.method == "GET"]
    assert reads and all(r.range for r in reads)
    assert sum(r.sent for r in reads) < size / 2

    # No worker wrote anything into the notebook's home (nor did the notebook: with both URLs, no file lives there).
    assert _tree(notebook_home) == home_before
    assert [p for p in notebook_home.rglob("*") if not p.is_dir()] == []


def _fetch(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read()
    except OSError:
        return None
