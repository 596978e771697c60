"""The storage destination against a real S3-compatible server (moto on 127.0.0.1) and local folders."""

from __future__ import annotations

import datetime as _dt
import io
import os
import time
import uuid

import numpy as np
import obstore
import pytest
import rasterio
from obstore.store import AzureStore

import wf_widgets as wf
from wf_widgets.delivery import storage_dest
from wf_widgets.errors import JobDestination, ResultExpired, ValidationError
from wf_widgets.outputs.codecs import decode
from wf_widgets.storage import S3Storage

from .._s3 import BUCKET

DAY = 86400.0


@pytest.fixture
def s3_prefix(s3_server):
    """A fresh ``s3://wf-test/<prefix>`` of the moto server, and its bucket read back with obstore."""
    url = s3_server.new_url()
    return url, S3Storage(BUCKET, "")


def _key(url: str) -> str:
    assert url.startswith(f"s3://{BUCKET}/")
    return url[len(f"s3://{BUCKET}/"):]


def _rows(backend):
    return backend.jobs.list(limit=100)


# -- s3:// ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["pyarrow", "json", "msgpack"])
def test_s3_writes_the_encoded_result_and_compute_returns_its_url(make_backend, s3_prefix, fmt):
    backend = make_backend()
    prefix, bucket = s3_prefix
    value = wf.Dict({"a": 1}) if fmt != "json" else wf.Int(1) + 1
    url = value.compute(destination={"type": "storage", "url": prefix + "/exports/{job_id}.{ext}"}, format=fmt)
    ext = wf.outputs.FORMATS[fmt].extension
    (row,) = _rows(backend)
    assert url == f"{prefix}/exports/{row['id']}.{ext}"
    data = bucket.get(_key(url))
    if fmt == "json":
        assert data == b"2"
    else:
        assert decode(fmt, data) == {"a": 1}
    full = backend.jobs.get(row["id"], graph=False)
    assert full["result_ref"] == {"url": url, "size": len(data)} and full["result_size"] == len(data)
    assert full["result_path"] is None and full["expires"] is None  # no stored download, no link
    job = wf.Job.get(row["id"])
    assert job.result() == url and job.object_url == url and job.url is None
    assert f"<code>{url}</code>" in job._repr_html_() and f"({len(data):,} bytes)" in job._repr_html_()


def test_s3_geotiff_of_an_image_with_its_tile_key(make_demo_catalog, s3_prefix, composite, small_tile):
    make_demo_catalog()
    prefix, bucket = s3_prefix
    job = composite.compute(small_tile, destination={"type": "storage", "url": prefix + "/{tile_key}.{ext}"},
                            format="geotiff", block=False).wait(120)
    want = f"{prefix}/{small_tile.key.replace(':', '_')}.tif"
    assert job.result() == want
    with rasterio.open(io.BytesIO(bucket.get(_key(want)))) as ds:
        assert (ds.count, ds.width, ds.height) == (2, 64, 64) and ds.crs.to_string() == small_tile.crs


def test_the_date_is_the_completion_date_utc_on_the_moved_clock(make_backend, s3_prefix):
    backend = make_backend(now_offset_s=40 * DAY)
    prefix, bucket = s3_prefix
    url = (wf.Int(1) + 1).compute(destination={"type": "storage", "url": prefix + "/{date}.{ext}"}, format="json")
    (row,) = _rows(backend)
    finished = _dt.datetime.fromtimestamp(row["finished"], tz=_dt.timezone.utc)
    assert url == f"{prefix}/{finished:%Y-%m-%d}.json"
    assert finished.date() > _dt.datetime.now(_dt.timezone.utc).date() + _dt.timedelta(days=39)
    assert bucket.get(_key(url)) == b"2"


def test_without_a_tile_the_tile_key_is_geoctx(make_backend, s3_prefix):
    make_backend()
    prefix, _ = s3_prefix
    url = (wf.Int(1) + 1).compute(destination={"type": "storage", "url": prefix + "/{tile_key}.{ext}"}, format="json")
    assert url == f"{prefix}/geoctx.json"


def test_the_same_key_is_replaced(make_backend, s3_prefix):
    make_backend()
    prefix, bucket = s3_prefix
    dest = {"type": "storage", "url": prefix + "/same.{ext}"}
    assert (wf.Int(1) + 1).compute(destination=dest, format="json") == f"{prefix}/same.json"
    assert (wf.Int(40) + 2).compute(destination=dest, format="json") == f"{prefix}/same.json"
    assert bucket.get(_key(f"{prefix}/same.json")) == b"42"


def test_a_large_result_is_one_multipart_upload(make_backend, s3_prefix, s3_server):
    make_backend()
    prefix, bucket = s3_prefix
    array = np.arange(3 * storage_dest.PART_SIZE // 8 + 5, dtype="float64")  # three parts and a bit
    url = wf.Array(array).compute(destination={"type": "storage", "url": prefix + "/big/{job_id}.{ext}"},
                                  format="msgpack")
    key = _key(url)
    with s3_server._lock:
        posts = [r for r in s3_server.served if r.method == "POST" and r.path.endswith(key)]
        puts = [r for r in s3_server.served if r.method == "PUT" and r.path.endswith(key)]
    assert len(posts) == 2 and len(puts) == 4  # initiate + complete; four parts
    np.testing.assert_array_equal(decode("msgpack", bucket.get(key)), array)


@pytest.fixture
def network_drops(monkeypatch):
    """Uploads of the storage destination fail after their first part: the network went away."""
    real = storage_dest._parts

    def failing(data):
        parts = real(data)
        yield next(parts)
        raise OSError("the network went away")

    monkeypatch.setattr(storage_dest, "_parts", failing)


def test_a_failed_upload_leaves_no_object(make_backend, s3_prefix, network_drops):
    backend = make_backend()
    prefix, bucket = s3_prefix
    array = np.zeros(2 * storage_dest.PART_SIZE // 8, dtype="float64")
    job = wf.Array(array).compute(destination={"type": "storage", "url": prefix + "/broken/{job_id}.{ext}"},
                                  format="msgpack", block=False)
    with pytest.raises(JobDestination, match=r"Could not write the result to s3://.*/broken/.*the network went away"):
        job.wait(60)
    assert bucket.keys(_key(prefix) + "/broken") == []  # no partial object
    assert backend.jobs.get(job.id)["result_ref"] is None


def test_preflight_refuses_a_missing_bucket_naming_the_url(make_backend, s3_server):
    backend = make_backend()
    url = "s3://no-such-bucket-here/x/{job_id}.{ext}"
    with pytest.raises(ValidationError, match=r"destination.url 's3://no-such-bucket-here/x/\{job_id\}.\{ext\}': the "
                                              r"bucket s3://no-such-bucket-here is not reachable or not writable") as e:
        (wf.Int(1) + 1).compute(destination={"type": "storage", "url": url}, format="json")
    assert e.value.field == "destination.url" and e.value.value == url
    assert _rows(backend) == []  # no job exists


def test_preflight_probe_leaves_nothing(make_backend, s3_prefix):
    make_backend()
    prefix, bucket = s3_prefix
    (wf.Int(1) + 1).compute(destination={"type": "storage", "url": prefix + "/p/{job_id}.{ext}"}, format="json")
    keys = bucket.keys(_key(prefix))
    assert len(keys) == 1 and storage_dest.PROBE_PREFIX not in keys[0]


def test_the_deployments_own_s3_storage_is_refused(make_backend, s3_server):
    own = s3_server.new_url()
    backend = make_backend(storage_url=own)
    with pytest.raises(ValidationError, match=r"under this deployment's own storage \(s3://wf-test/.*WF_WIDGETS_"
                                              r"STORAGE_URL\)"):
        (wf.Int(1) + 1).compute(destination={"type": "storage", "url": own + "/results/{job_id}.{ext}"})
    # another prefix of the same bucket is fine
    other = s3_server.new_url()
    assert (wf.Int(1) + 1).compute(destination={"type": "storage", "url": other + "/x.{ext}"},
                                   format="json") == other + "/x.json"
    assert len(_rows(backend)) == 1


# -- file:// ----------------------------------------------------------------------------------------
def test_file_writes_under_an_allowed_root(make_backend, tmp_path):
    root = tmp_path / "exports"
    root.mkdir()
    backend = make_backend(storage_roots=f"{tmp_path / 'other'}:{root}")
    url = (wf.Int(1) + 1).compute(destination={"type": "storage", "url": f"file://{root}/a/b/{{job_id}}.{{ext}}"},
                                  format="json")
    (row,) = _rows(backend)
    path = root / "a" / "b" / f"{row['id']}.json"
    assert url == f"file://{path}" and path.read_bytes() == b"2"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert sorted(os.listdir(path.parent)) == [path.name]  # no probe, no temporary left


def test_file_is_off_until_roots_are_set(make_backend, tmp_path):
    backend = make_backend()
    with pytest.raises(ValidationError, match="file:// is off: no folder is allowed. Set WF_WIDGETS_STORAGE_ROOTS"):
        (wf.Int(1) + 1).compute(destination={"type": "storage", "url": f"file://{tmp_path}/{{job_id}}.{{ext}}"})
    assert _rows(backend) == []


def test_file_outside_the_roots_is_refused_even_through_a_link(make_backend, tmp_path):
    root = tmp_path / "exports"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    make_backend(storage_roots=str(root))
    for url in (f"file://{outside}/{{job_id}}.json", f"file://{root}/escape/{{job_id}}.json",
                f"file://{root}/../outside/x.json"):
        with pytest.raises(ValidationError, match=r"(is not under a folder of WF_WIDGETS_STORAGE_ROOTS|'\.\.' part)"):
            (wf.Int(1) + 1).compute(destination={"type": "storage", "url": url}, format="json")
    assert os.listdir(outside) == []


def test_file_in_the_home_is_refused(make_backend, tmp_path):
    backend = make_backend(storage_roots=str(tmp_path))
    home = backend.settings.home
    with pytest.raises(ValidationError, match=r"under this deployment's own storage \(file://"):
        (wf.Int(1) + 1).compute(destination={"type": "storage", "url": f"file://{home}/results/{{job_id}}.json"})


def test_a_failed_file_write_leaves_no_file(make_backend, tmp_path, monkeypatch):
    root = tmp_path / "exports"
    root.mkdir()
    make_backend(storage_roots=str(root))

    def failing(data):
        yield memoryview(data)[:1]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage_dest, "_parts", failing)
    job = (wf.Int(1) + 1).compute(destination={"type": "storage", "url": f"file://{root}/{{job_id}}.json"},
                                  format="json", block=False)
    with pytest.raises(JobDestination, match="No space left on device"):
        job.wait(60)
    assert os.listdir(root) == []  # neither the file nor its temporary


def test_the_board_shows_the_objects_url_and_size(make_backend, s3_prefix):
    from wf_widgets.widgets import JobsBoard

    make_backend()
    prefix, _ = s3_prefix
    job = (wf.Int(1) + 1).compute(destination={"type": "storage", "url": prefix + "/{job_id}.{ext}"},
                                  format="json", block=False).wait(60)
    board = JobsBoard([job]).refresh()
    (row,) = board.rows
    assert row["object_url"] == f"{prefix}/{job.id}.json" and row["size"] == 1 and "url" not in row
    board.close()


def test_preflight_against_an_unreachable_endpoint_fails_fast_naming_the_url(make_backend, monkeypatch):
    from wf_widgets.server.testing import free_port

    backend = make_backend()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    started = time.monotonic()
    with pytest.raises(ValidationError, match=r"'s3://some-bucket/\{job_id\}.\{ext\}': the bucket s3://some-bucket "
                                              r"is not reachable or not writable .*after 2 retries"):
        (wf.Int(1) + 1).compute(destination={"type": "storage", "url": "s3://some-bucket/{job_id}.{ext}"})
    assert time.monotonic() - started < 3  # a person is waiting (obstore's defaults retry for seconds to minutes)
    assert _rows(backend) == []


# -- az:// (Azurite) ----------------------------------------------------------------------------------
@pytest.fixture
def container(azurite):
    """A fresh container of the emulator, and obstore's view of it."""
    name = f"c{uuid.uuid4().hex[:20]}"
    azurite.make_container(name)
    return name, AzureStore(name)


@pytest.mark.parametrize("fmt", ["pyarrow", "json", "msgpack"])
def test_az_writes_the_encoded_result_and_compute_returns_its_url(make_backend, container, fmt):
    backend = make_backend()
    name, store = container
    value = wf.Dict({"a": 1}) if fmt != "json" else wf.Int(1) + 1
    url = value.compute(destination={"type": "storage", "url": f"az://{name}/exports/{{date}}/{{job_id}}.{{ext}}"},
                        format=fmt)
    (row,) = _rows(backend)
    finished = _dt.datetime.fromtimestamp(row["finished"], tz=_dt.timezone.utc)
    key = f"exports/{finished:%Y-%m-%d}/{row['id']}.{wf.outputs.FORMATS[fmt].extension}"
    assert url == f"az://{name}/{key}"
    data = bytes(obstore.get(store, key).bytes())
    assert data == b"2" if fmt == "json" else decode(fmt, data) == {"a": 1}
    assert backend.jobs.get(row["id"])["result_ref"] == {"url": url, "size": len(data)}
    assert [m["path"] for batch in obstore.list(store) for m in batch] == [key]  # the probe left nothing


def test_az_a_large_result_is_blocks_committed_at_the_end(make_backend, container):
    make_backend()
    name, store = container
    array = np.arange(2 * storage_dest.PART_SIZE // 8 + 3, dtype="float64")
    url = wf.Array(array).compute(destination={"type": "storage", "url": f"az://{name}/big.{{ext}}"}, format="msgpack")
    np.testing.assert_array_equal(decode("msgpack", bytes(obstore.get(store, "big.msgpack").bytes())), array)
    assert url == f"az://{name}/big.msgpack"


def test_az_a_failed_upload_leaves_no_blob(make_backend, container, network_drops):
    make_backend()
    name, store = container
    job = wf.Array(np.zeros(2 * storage_dest.PART_SIZE // 8)).compute(
        destination={"type": "storage", "url": f"az://{name}/broken.{{ext}}"}, format="msgpack", block=False)
    with pytest.raises(JobDestination, match=r"Could not write the result to az://.*/broken.msgpack: .*network went"):
        job.wait(60)
    assert [m["path"] for batch in obstore.list(store) for m in batch] == []


def test_az_preflight_refuses_a_missing_container_naming_the_url(make_backend, azurite):
    backend = make_backend()
    url = "az://no-such-container/{job_id}.{ext}"
    with pytest.raises(ValidationError, match=r"destination.url 'az://no-such-container/\{job_id\}.\{ext\}': the "
                                              r"container az://no-such-container is not reachable or not writable "
                                              r".*AZURE_STORAGE_ACCOUNT_NAME"):
        (wf.Int(1) + 1).compute(destination={"type": "storage", "url": url})
    assert _rows(backend) == []


@pytest.mark.parametrize("where", ["s3", "az", "file"])
def test_result_to_file_reads_the_object_back(make_backend, where, tmp_path, request):
    backend = make_backend(storage_roots=str(tmp_path / "roots"))
    if where == "s3":
        base = request.getfixturevalue("s3_server").new_url()
    elif where == "az":
        base = f"az://{request.getfixturevalue('container')[0]}"
    else:
        (tmp_path / "roots").mkdir()
        base = f"file://{tmp_path}/roots"
    job = wf.Int(7).compute(destination={"type": "storage", "url": base + "/{{literal}}/{job_id}.{ext}"}, format="json",
                            block=False).wait(60)
    assert job.result() == f"{base}/{{literal}}/{job.id}.json"
    out = tmp_path / "out.json"
    job.result_to_file(out)
    assert out.read_bytes() == b"7"
    if where == "file":
        os.remove(f"{tmp_path}/roots/{{literal}}/{job.id}.json")
        with pytest.raises(ResultExpired, match=r"The object file://.*/\{literal\}/.*\.json that the job wrote is gone"):
            job.result_to_file(io.BytesIO())
    assert backend.jobs.get(job.id)["result_size"] == 1
