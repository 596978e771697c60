"""``wf-widgets catalog export-stac``: a product as a self-contained static STAC catalog."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pystac
import pytest
import rasterio

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.catalog.files import ImageFiles
from wf_widgets.catalog.stac_export import check_export, export_stac
from wf_widgets.cli import main
from wf_widgets.config import Settings
from wf_widgets.demo_data import N_SCENES, PRODUCT_ID
from wf_widgets.errors import NotFound, PermissionDenied, ValidationError, WfError

from .._stac import stac_errors
from ._helpers import new_image


@pytest.fixture
def demo_reader(demo_home):
    """``user:bob`` reading the demo home (the export only reads it), installed as the default."""
    b = Backend(Settings(home=demo_home, user="user:bob"), sweep=False)
    previous = wf.set_backend(b)
    yield b
    wf.set_backend(previous)
    b.close()


def test_export_is_a_valid_self_contained_catalog(demo_reader, tmp_path):
    summary = export_stac(demo_reader.catalog, demo_reader.storage, PRODUCT_ID, tmp_path / "out")
    assert summary.items == N_SCENES and summary.linked == N_SCENES and summary.copied == 0
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "out", moved)  # relative links: the folder works wherever it is
    collection = pystac.Collection.from_file(str(moved / "collection.json"))
    assert collection.id == PRODUCT_ID
    items = list(collection.get_items())
    names = [r["name"] for r in demo_reader.catalog.list_images(PRODUCT_ID)]
    assert sorted(i.id for i in items) == names
    raw = json.loads((moved / "collection.json").read_text())
    assert stac_errors(raw) == []
    assert all("://" not in link["href"] and link["rel"] != "self" for link in raw["links"])
    for item in items[:3]:
        doc = json.loads(open(item.get_self_href()).read())
        assert stac_errors(doc) == []
        asset = item.assets["image"]
        assert doc["assets"]["image"]["href"] == f"./{item.id}.tif"
        image = wf.catalog.Image.get(f"{PRODUCT_ID}:{item.id}")
        with rasterio.open(asset.get_absolute_href()) as src:
            data = src.read()
        np.testing.assert_array_equal(data, image.ndarray().filled(0))
        source = ImageFiles(demo_reader.storage).path(image.files[0]["href"])
        assert os.stat(asset.get_absolute_href()).st_ino == source.stat().st_ino  # hard-linked


def test_copy_makes_files_of_its_own(demo_reader, tmp_path):
    summary = export_stac(demo_reader.catalog, demo_reader.storage, PRODUCT_ID, tmp_path / "out", copy=True)
    assert summary.copied == N_SCENES and summary.linked == 0
    name = demo_reader.catalog.list_images(PRODUCT_ID)[0]
    source = ImageFiles(demo_reader.storage).path(name["files"][0]["href"])
    copy = tmp_path / "out" / name["name"] / f"{name['name']}.tif"
    assert copy.read_bytes() == source.read_bytes() and copy.stat().st_ino != source.stat().st_ino


def test_the_command(demo_reader, tmp_path, capsys):
    assert main(["catalog", "export-stac", PRODUCT_ID, str(tmp_path / "cli")]) == 0
    assert f"exported {N_SCENES} item(s) to {tmp_path / 'cli' / 'collection.json'}" in capsys.readouterr().out
    assert check_export(tmp_path / "cli") == N_SCENES
    assert main(["catalog", "export-stac", PRODUCT_ID, str(tmp_path / "cli")]) == 1  # not empty
    assert "is not an empty folder" in capsys.readouterr().err
    assert main(["catalog"]) == 0 and PRODUCT_ID in capsys.readouterr().out  # the listing is still the default


def test_refusals(demo_reader, tmp_path, make_backend):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ValidationError, match="full exists and is not an empty folder"):
        export_stac(demo_reader.catalog, demo_reader.storage, PRODUCT_ID, tmp_path / "full")
    with pytest.raises(NotFound, match="Unknown product id 'demo:nothing'; products you may read: 'sentinel-1:GRD'"):
        export_stac(demo_reader.catalog, demo_reader.storage, "demo:nothing", tmp_path / "a")
    owner = make_backend(user="user:alice")
    wf.catalog.Product(id="alice:private", name="Private").save()
    wf.catalog.SpectralBand(name="red", product_id="alice:private", data_type="UInt16", band_index=0).save()
    other = owner.as_user("user:eve")
    with pytest.raises(PermissionDenied, match="user:eve may not read product 'alice:private'"):
        export_stac(other.catalog, other.storage, "alice:private", tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_a_broken_export_is_found(demo_reader, tmp_path):
    export_stac(demo_reader.catalog, demo_reader.storage, PRODUCT_ID, tmp_path / "out")
    first = demo_reader.catalog.list_images(PRODUCT_ID)[0]["name"]
    (tmp_path / "out" / first / f"{first}.tif").unlink()
    with pytest.raises(WfError, match=f"links to './{first}.tif', which is not a file inside it"):
        check_export(tmp_path / "out")


def test_export_from_an_object_store(make_backend, storage_url, tmp_path):
    backend = make_backend(storage_url=storage_url)
    wf.catalog.Product(id="alice:small", name="Small").save()
    for i, name in enumerate(["a", "b"]):
        wf.catalog.SpectralBand(name=name, product_id="alice:small", data_type="UInt16", nodata=0, band_index=i).save()
    data = np.arange(2 * 16 * 16, dtype=np.uint16).reshape(2, 16, 16) + 1
    new_image("one", "alice:small").upload_ndarray(data)
    summary = export_stac(backend.catalog, backend.storage, "alice:small", tmp_path / "out")
    assert summary.items == 1 and (summary.linked, summary.copied) == ((1, 0) if storage_url is None else (0, 1))
    with rasterio.open(tmp_path / "out" / "one" / "one.tif") as src:
        np.testing.assert_array_equal(src.read(), data)
    doc = json.loads((tmp_path / "out" / "one" / "one.json").read_text())
    assert stac_errors(doc) == [] and [b["name"] for b in doc["assets"]["image"]["eo:bands"]] == ["a", "b"]
