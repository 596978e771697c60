"""The object-store seam: the same behaviour on file:// (files under a folder) and s3:// (a real S3 API server)."""

from __future__ import annotations

import asyncio
import os

import pytest

from wf_widgets.config import Settings
from wf_widgets.errors import ValidationError
from wf_widgets.storage import FileStorage, S3Storage, open_storage


@pytest.fixture
def store(tmp_path, storage_url):
    """The object store of a fresh home, on each kind of store."""
    return open_storage(Settings(home=tmp_path / "home", storage_url=storage_url))


def _collect(agen) -> list[bytes]:
    async def run():
        return [chunk async for chunk in agen]

    return asyncio.run(run())


def test_the_default_is_the_home_folder_and_its_layout(tmp_path):
    settings = Settings(home=tmp_path / "home")
    assert settings.storage_url is None and settings.storage == (tmp_path / "home").resolve().as_uri()
    store = open_storage(settings)
    assert isinstance(store, FileStorage) and store.is_local and store.root == settings.home
    assert store.local_path("results/x.json") == settings.home / "results" / "x.json"
    assert store.gdal_path("catalog/files/p/i.tif") == str(settings.home / "catalog" / "files" / "p" / "i.tif")
    assert store.gdal_options() == {}
    assert open_storage(settings) is store  # one per URL in a process
    assert not settings.home.exists()  # opening it makes nothing


def test_storage_url_is_checked_and_read_from_the_environment(tmp_path):
    env = {"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_STORAGE_URL": "s3://bucket/some/prefix/"}
    assert Settings.from_env(env).storage == "s3://bucket/some/prefix"
    assert Settings(home=tmp_path, storage_url=f"file://{tmp_path}/data/").storage == (tmp_path / "data").as_uri()
    for bad in ("gs://bucket/x", "s3:///no-bucket", "file://relative/folder", "/plain/path", "s3://b/../up"):
        with pytest.raises(ValidationError, match="WF_WIDGETS_STORAGE_URL must be file:///<absolute folder> or "
                                                  r"s3://<bucket>/<prefix> \(the prefix is optional\), got") as err:
            Settings(home=tmp_path, storage_url=bad)
        assert err.value.field == "storage_url" and err.value.value == bad
        assert list(err.value.allowed) == ["file:///<folder>", "s3://<bucket>/<prefix>"]


def test_put_get_head_and_ranges(store):
    info = store.put("results/a.bin", b"hello world")
    assert info.key == "results/a.bin" and info.size == 11 and info.etag
    assert store.get("results/a.bin") == b"hello world"
    assert store.get_range("results/a.bin", 6, 11) == b"world"
    assert store.get_range("results/a.bin", 6, 100) == b"world"  # fewer where it ends first
    assert store.head("results/a.bin") == info
    assert store.exists("results/a.bin") and not store.exists("results/b.bin")
    assert b"".join(store.iter_chunks("results/a.bin", chunk_size=4)) == b"hello world"
    assert b"".join(_collect(store.stream("results/a.bin", 2, 9, chunk_size=3))) == b"llo wor"


def test_an_object_replaced_gets_another_etag_and_create_never_replaces(store):
    first = store.put("blobs/k", b"one")
    with pytest.raises(FileExistsError):
        store.put("blobs/k", b"two", overwrite=False)
    assert store.get("blobs/k") == b"one"
    second = store.put("blobs/k", b"two")  # overwrite (the default)
    assert store.get("blobs/k") == b"two" and second.etag != first.etag


def test_missing_objects_are_file_not_found(store):
    for call in (lambda: store.get("results/none"), lambda: store.head("results/none"),
                 lambda: store.get_range("results/none", 0, 1), lambda: list(store.iter_chunks("results/none"))):
        with pytest.raises(FileNotFoundError):
            call()
    store.delete("results/none")  # deleting a missing object is no error
    store.delete_many(["results/none", "results/other"])


def test_streamed_and_file_uploads(store, tmp_path):
    big = os.urandom(9 << 20)  # more than one part of a multipart upload
    info = store.put_stream("results/big.bin", (big[i:i + (1 << 20)] for i in range(0, len(big), 1 << 20)))
    assert info.size == len(big) and store.get("results/big.bin") == big
    with pytest.raises(FileExistsError):
        store.put_stream("results/big.bin", [b"x"], overwrite=False)
    source = tmp_path / "upload.tif"
    source.write_bytes(b"tiff bytes")
    store.put_file("catalog/files/p/i.tif", source)
    assert store.get("catalog/files/p/i.tif") == b"tiff bytes" and not source.exists()


def test_list_keys_and_delete(store):
    for key in ("results/1.json", "results/2.json", "catalog/files/p/a.tif", "catalog/files/q/b.tif"):
        store.put(key, b"x" * 3)
    assert sorted(store.keys("results")) == ["results/1.json", "results/2.json"]
    assert sorted(store.keys("catalog/files")) == ["catalog/files/p/a.tif", "catalog/files/q/b.tif"]
    listed = {i.key: i for i in store.list("catalog")}
    assert sorted(listed) == ["catalog/files/p/a.tif", "catalog/files/q/b.tif"]
    assert all(i.size == 3 and i.modified > 0 for i in listed.values())
    assert store.keys("nothing") == []
    store.delete_many(["results/1.json", "catalog/files/p/a.tif"])
    store.delete("results/2.json")
    assert store.keys("results") == [] and store.keys("catalog") == ["catalog/files/q/b.tif"]


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a/.", "a\\b", "a\0b"])
def test_keys_can_not_leave_the_store(store, key):
    with pytest.raises(ValueError, match="Not an object key"):
        store.put(key, b"x")


def test_files_are_private_and_writes_leave_no_temporary(tmp_path):
    store = open_storage(Settings(home=tmp_path / "home"))
    for unnamed in (True, False):
        store._tmpfile = unnamed and store._tmpfile
        key = f"results/{int(unnamed)}.json"
        store.put(key, b"[1]", overwrite=False)
        assert oct(store.local_path(key).stat().st_mode & 0o777) == oct(0o600)
        assert oct(store.local_path(key).parent.stat().st_mode & 0o777) == oct(0o700)
    store.put("results/1.json", b"[2]")  # replaced by a rename
    assert sorted(os.listdir(store.local_path("results"))) == ["0.json", "1.json"]


def test_gdal_options_come_from_the_aws_variables():
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_REGION": "eu-west-3"}
    store = S3Storage("bucket", "pre/fix", env)
    assert store.url == "s3://bucket/pre/fix" and not store.is_local and store.local_path("results/x") is None
    assert store.gdal_path("catalog/files/p/i.tif") == "/vsis3/bucket/pre/fix/catalog/files/p/i.tif"
    options = store.gdal_options()
    assert {k: options[k] for k in ("AWS_S3_ENDPOINT", "AWS_HTTPS", "AWS_VIRTUAL_HOSTING", "AWS_REGION",
                                    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")} == {
        "AWS_S3_ENDPOINT": "127.0.0.1:9000", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
        "AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"}
    aws = S3Storage("bucket", "", {"AWS_DEFAULT_REGION": "us-west-2", "AWS_ENDPOINT_URL_S3": "https://s3.example.org"})
    assert aws.gdal_path("blobs/k") == "/vsis3/bucket/blobs/k"
    assert aws.gdal_options()["AWS_S3_ENDPOINT"] == "s3.example.org" and aws.gdal_options()["AWS_HTTPS"] == "YES"
    assert aws.gdal_options()["AWS_REGION"] == "us-west-2" and "AWS_ACCESS_KEY_ID" not in aws.gdal_options()


def test_objects_too_big_for_one_put_are_created_by_a_multipart_upload(store, monkeypatch):
    from wf_widgets import storage

    monkeypatch.setattr(storage, "SINGLE_PUT_MAX", 1 << 20)
    data = os.urandom(3 << 20)
    assert store.put("results/big.bin", data, overwrite=False).size == len(data)
    assert store.get("results/big.bin") == data
    with pytest.raises(FileExistsError):
        store.put("results/big.bin", b"x" * (2 << 20), overwrite=False)


def test_put_new_creates_never_replaces_and_leaves_nothing_when_the_write_fails(store, tmp_path, monkeypatch):
    info = store.put_new("results/n/new.bin", b"first")  # its folder made with it
    assert info.key == "results/n/new.bin" and info.size == 5 and store.head("results/n/new.bin") == info
    with pytest.raises(FileExistsError):
        store.put_new("results/n/new.bin", b"second")
    assert store.get("results/n/new.bin") == b"first"
    with pytest.raises(ValueError, match="Not an object key"):
        store.put_new("results/../x", b"x")
    if isinstance(store, FileStorage):
        assert oct(store.local_path("results/n/new.bin").stat().st_mode & 0o777) == oct(0o600)
        assert oct(store.local_path("results/n").stat().st_mode & 0o777) == oct(0o700)

        def no_room(fd, data):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "write", no_room)
        with pytest.raises(OSError, match="No space left"):
            store.put_new("results/n/full.bin", b"x" * 10)
        monkeypatch.undo()
        assert sorted(os.listdir(store.local_path("results/n"))) == ["new.bin"]  # the partial file removed
