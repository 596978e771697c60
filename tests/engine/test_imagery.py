"""Evaluating Image and ImageCollection graphs over the demo product."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.demo_data import N_SCENES, PHYSICAL_RANGE, UNCOVERED_COLS
from wf_widgets.engine.evaluate import EvalContext, evaluate, plan
from wf_widgets.outputs.results import ImageCollectionResult, ImageResult
from wf_widgets.values import imagery_rules as rules

TILE = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)



@pytest.fixture
def ic(demo_backend):
    """February 2020 of the demo product: 5 scenes, enough for the semantics and quick to read."""
    return wf.ImageCollection.from_id("sentinel-1:GRD", "2020-02-01", "2020-03-01")


@pytest.fixture
def stack(ic):
    """The collection over TILE, computed once per test that needs it."""
    return ic.compute(TILE)


def test_spec_composite_over_the_1024_tile(demo_backend):
    composite = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01").mean(axis="images")
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 1024, 0)

    job = composite.compute(tile, block=False)
    result = job.result(timeout=120)

    assert isinstance(result, ImageResult)
    arr = result.ndarray
    assert arr.shape == (2, 1024, 1024) and arr.dtype == np.float64
    assert list(result.bandinfo) == ["vv", "vh"]
    assert arr.mask[:, :, -UNCOVERED_COLS:].all()  # no scene covers the east strip
    assert 0.9 < 1 - arr.mask.mean() < 1
    lo, hi = PHYSICAL_RANGE
    assert lo <= arr.min() and arr.max() <= hi
    assert -20 < arr[0].mean() < -5 and arr[1].mean() < arr[0].mean()  # vh below vv, in dB
    assert result.properties["product"] == "sentinel-1:GRD" and "date" not in result.properties
    # One step per node, one per scene read, one for delivery.
    assert job.steps_total == job.steps_done == 2 + N_SCENES + 1
    assert composite.band_names == ["vv", "vh"]


def test_collection_result_and_streamed_composite_agree(ic, stack):
    assert isinstance(stack, ImageCollectionResult)
    n = len(stack)
    assert n == 5 and stack.ndarray.shape == (n, 2, 256, 256)
    assert [p["date"] for p in stack.properties] == sorted(p["date"] for p in stack.properties)
    for name in ("mean", "sum", "min", "max", "count", "median", "std"):
        got = getattr(ic, name)(axis="images").compute(TILE).ndarray
        want = np.ma.count(stack.ndarray, axis=0) if name == "count" else getattr(np.ma, name)(stack.ndarray, axis=0)
        assert np.ma.allclose(got, want), name
        assert np.array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want)), name


def test_reductions_along_each_axis(ic, stack):
    arr = stack.ndarray
    n = len(stack)
    assert ic.mean().compute(TILE) == pytest.approx(float(arr.mean()))
    per_scene = ic.max(axis="pixels").compute(TILE)
    assert len(per_scene) == n and per_scene[0] == {"vv": pytest.approx(float(arr[0, 0].max())),
                                                     "vh": pytest.approx(float(arr[0, 1].max()))}
    bands = ic.min(axis="bands").compute(TILE)
    assert isinstance(bands, ImageCollectionResult) and list(bands.bandinfo) == ["min"]
    assert np.ma.allclose(bands.ndarray[:, 0], arr.min(axis=1))
    by_band = ic.sum(axis=("images", "pixels")).compute(TILE)
    assert by_band == {"vv": pytest.approx(float(arr[:, 0].sum())), "vh": pytest.approx(float(arr[:, 1].sum()))}
    per_image = ic.count(axis=("bands", "pixels")).compute(TILE)
    assert per_image == [float(np.ma.count(arr[i])) for i in range(n)]
    flat = ic.std(axis=("images", "bands")).compute(TILE)
    assert list(flat.bandinfo) == ["std"] and flat.ndarray.shape == (1, 256, 256)
    assert np.ma.allclose(flat.ndarray[0], arr.std(axis=(0, 1)))

    image = ic.median(axis="images")
    assert image.mean(axis="pixels").compute(TILE).keys() == {"vv", "vh"}
    one = image.max(axis="bands").compute(TILE)
    assert list(one.bandinfo) == ["max"] and one.ndarray.shape == (1, 256, 256)
    assert isinstance(image.mean(axis=("bands", "pixels")).compute(TILE), float)


def test_operators(ic, stack):
    arr = stack.ndarray
    composite = ic.mean(axis="images")
    comp = composite.compute(TILE).ndarray
    vv, vh = composite.pick_bands("vv"), composite.pick_bands("vh")

    diff = (vv - vh).compute(TILE)
    assert list(diff.bandinfo) == ["vv_sub_vh"]
    assert np.ma.allclose(diff.ndarray[0], comp[0] - comp[1])

    assert np.ma.allclose((1 - composite * 2).compute(TILE).ndarray, 1 - comp * 2)
    assert np.ma.allclose((composite / vv).compute(TILE).ndarray, comp / comp[0])  # 1 band broadcasts
    low = (composite < -12).compute(TILE)
    assert low.ndarray.dtype == bool and np.array_equal(low.ndarray.filled(False), (comp < -12).filled(False))
    both = ((composite < -12) & (composite > -30)).compute(TILE).ndarray
    assert np.array_equal(both.filled(False), ((comp < -12) & (comp > -30)).filled(False))
    assert np.array_equal((~(composite < -12)).compute(TILE).ndarray.filled(False), (comp >= -12).filled(False))
    assert np.ma.allclose(abs(composite).compute(TILE).ndarray, -comp)
    logged = composite.log10().compute(TILE).ndarray  # dB values are negative: all masked
    assert logged.mask.all()
    assert np.ma.allclose(abs(composite).sqrt().compute(TILE).ndarray, np.sqrt(-comp))

    centred = (ic - composite).compute(TILE)
    assert isinstance(centred, ImageCollectionResult)
    assert np.ma.allclose(centred.ndarray, arr - comp[np.newaxis])
    assert np.ma.allclose((ic * ic).compute(TILE).ndarray, arr * arr)


def test_band_ops(ic, stack):
    arr = stack.ndarray
    picked = ic.pick_bands("vh vv vh").compute(TILE)
    assert list(picked.bandinfo) == ["vh", "vv", "vh_1"]
    assert np.ma.allclose(picked.ndarray[:, 1], arr[:, 0]) and np.ma.allclose(picked.ndarray[:, 2], arr[:, 1])
    renamed = ic.rename_bands("a", "b").compute(TILE)
    assert list(renamed.bandinfo) == ["a", "b"] and renamed.bandinfo["a"]["name"] == "a"
    composite = ic.mean(axis="images")
    joined = composite.concat_bands(composite.pick_bands("vv")).compute(TILE)
    assert list(joined.bandinfo) == ["vv", "vh", "vv_1"] and joined.ndarray.shape == (3, 256, 256)
    col = ic.concat_bands(composite.pick_bands("vv").rename_bands("mean_vv")).compute(TILE)
    assert list(col.bandinfo) == ["vv", "vh", "mean_vv"] and col.ndarray.shape[1] == 3


def test_mosaic_last_image_on_top(ic, stack):
    arr = stack.ndarray
    top = ic.mosaic().compute(TILE).ndarray
    bottom = ic.mosaic(reverse=True).compute(TILE).ndarray
    # Where the last image is valid, the mosaic is the last image; reverse gives the first.
    last, first = arr[-1], arr[0]
    assert np.ma.allclose(top[~last.mask], last[~last.mask])
    assert np.ma.allclose(bottom[~first.mask], first[~first.mask])
    assert np.array_equal(top.mask, arr.mask.all(axis=0))
    assert np.ma.allclose(ic.mosaic().compute(TILE).ndarray, (ic + 0).mosaic().compute(TILE).ndarray)


def test_mask_and_getmask(ic):
    composite = ic.mean(axis="images")
    comp = composite.compute(TILE).ndarray
    masked = composite.mask(composite.pick_bands("vv") < -12).compute(TILE).ndarray
    expected = comp.mask | (comp[0] < -12).filled(False)[np.newaxis]
    assert np.array_equal(masked.mask, expected)
    got = composite.mask(composite.pick_bands("vv") < -12).getmask().compute(TILE)
    assert list(got.bandinfo) == ["mask"] and got.ndarray.dtype == bool
    assert np.array_equal(got.ndarray[0], expected.any(axis=0)) and not np.ma.is_masked(got.ndarray)
    replaced = composite.mask(composite > 1000, replace=True).compute(TILE).ndarray
    assert np.array_equal(replaced.mask, comp.mask)  # masked in the mask stays masked
    per_image = ic.mask(composite.pick_bands("vv") < -12).compute(TILE)
    assert per_image.ndarray.mask[:, 0][:, (comp[0] < -12).filled(False)].all()


def test_clip_and_scale_values(ic):
    composite = ic.mean(axis="images")
    comp = composite.compute(TILE).ndarray
    scaled = composite.scale_values(0, 1).compute(TILE).ndarray
    assert scaled.min() == pytest.approx(0) and scaled.max() == pytest.approx(1)
    assert np.array_equal(scaled.mask, comp.mask)
    fixed = composite.scale_values(0, 255, -50, 10).compute(TILE).ndarray
    assert np.ma.allclose(fixed, (comp + 50) / 60 * 255)
    clipped = composite.clip_values(-25, [-10, -15]).compute(TILE).ndarray
    assert clipped[0].max() <= -10 and clipped[1].max() <= -15 and clipped.min() >= -25


def test_properties(ic, stack, demo_backend):
    first = ic.properties[0]["date"].compute(TILE)
    assert first == stack.properties[0]["date"]
    assert isinstance(first, _dt.datetime) and first.tzinfo is not None and first.year == 2020
    assert isinstance(ic.properties[0]["date"], wf.Datetime)
    assert ic.length().compute(TILE) == len(stack)
    image_id = stack.properties[0]["id"]
    img = wf.Image.from_id(image_id)
    assert isinstance(img.properties["date"], wf.Datetime)
    assert img.properties["date"].year.compute(TILE) == 2020
    props = img.with_properties(note="hello", date=wf.Datetime("2021-06-01")).properties.compute(TILE)
    assert props["note"] == "hello" and props["date"].year == 2021 and props["product"] == "sentinel-1:GRD"


def test_image_from_id_equals_that_scene_of_the_collection(ic, stack):
    img = wf.Image.from_id(stack.properties[-1]["id"]).compute(TILE)
    assert np.ma.allclose(img.ndarray, stack.ndarray[-1])
    assert img.properties == stack.properties[-1]


def test_evaluate_directly_counts_one_step_per_scene(demo_backend, ic):
    composite = ic.pick_bands("vv").max(axis="images")
    ctx = EvalContext.for_backend(demo_backend, TILE)
    total = plan(composite.node, ctx)
    result = evaluate(composite.node, ctx)
    assert isinstance(result, ImageResult) and list(result.bandinfo) == ["vv"]
    assert ctx.steps_done == total == 3 + ic.length().compute(TILE)


def test_empty_collection(demo_backend):
    empty = wf.ImageCollection.from_id("sentinel-1:GRD", "2021-01-01", "2021-02-01")
    assert empty.length().compute(TILE) == 0
    for name in ("mean", "median", "count"):
        composite = getattr(empty, name)(axis="images").compute(TILE)
        assert composite.ndarray.shape == (2, 256, 256)
        assert composite.ndarray.mask.all() != (name == "count")
    assert empty.mosaic().compute(TILE).ndarray.mask.all()
    assert empty.mean(axis=("images", "pixels")).compute(TILE) == {"vv": None, "vh": None}
    assert empty.compute(TILE).ndarray.shape == (0, 2, 256, 256)


SMALL = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 48, 0)
#: Axis name -> numpy axes of a collection stack (images, bands, y, x); an Image has no "images".
_AXES = {"images": (0,), "bands": (1,), "pixels": (2, 3)}


def _flat(result) -> np.ma.MaskedArray:
    """Any reduction result as a flat masked array (images first, bands next, pixels last)."""
    if hasattr(result, "ndarray"):
        return np.ma.ravel(result.ndarray)
    if isinstance(result, dict):
        return np.ma.masked_invalid(np.array(list(result.values()), float))
    if isinstance(result, list):
        return np.ma.concatenate([_flat(r) for r in result]) if result and isinstance(result[0], dict) else \
            np.ma.masked_invalid(np.array(result, float))
    return np.ma.masked_invalid(np.array([result], float))


@pytest.mark.parametrize("kind", ["ImageCollection", "Image"])
def test_reduction_is_every_reduction_over_every_axis(demo_backend, kind):
    ic = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-02-01", "2020-03-01")
    value = ic if kind == "ImageCollection" else ic.mean(axis="images")
    ctx = EvalContext.for_backend(demo_backend, SMALL)
    stack = evaluate(value.node, ctx).ndarray
    if kind == "Image":
        stack = stack[np.newaxis]  # one image: the same axes as a collection
    axes = [None] + [a for a in rules.REDUCE_RESULT[kind] if a is not None]
    assert len(axes) == (8 if kind == "ImageCollection" else 4)
    for name in rules.REDUCTIONS:
        for axis in axes:
            reduced = value.reduction(name, axis=axis)
            assert reduced.id == getattr(value, name)(axis=axis).id
            dims = (1, 2, 3) if kind == "Image" else (0, 1, 2, 3)
            if axis is not None:
                dims = tuple(d for a in axis for d in _AXES[a])
            want = np.ma.count(stack, axis=dims) if name == "count" else getattr(np.ma, name)(stack, axis=dims)
            got = _flat(evaluate(reduced.node, ctx))
            want = np.ma.ravel(want)
            assert got.shape == want.shape, (name, axis)
            assert np.ma.allclose(got, want), (name, axis)
    if kind == "ImageCollection":
        assert ic.reduction("mosaic", axis="images").id == ic.mosaic().id
        assert value.reduction(wf.Str("max"), "bands").id == value.max(axis="bands").id
    with pytest.raises(ValueError, match=r"Invalid operation 'mode', must be 'mean', 'median'"):
        value.reduction("mode")
    with pytest.raises(ValueError, match="'mosaic' reduction is over axis 'images' only" if kind == "ImageCollection"
                       else "Invalid operation 'mosaic'"):
        value.reduction("mosaic", axis="bands")


def test_zip_and_map_over_imagery(demo_backend, stack):
    ic = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-02-01", "2020-03-01")
    zipped = wf.zip(ic, wf.range(100))
    assert type(zipped) is wf.List[wf.Tuple[wf.Image, wf.Int]]
    means = zipped.map(lambda pair: pair[0].mean() + pair[1])
    got = means.compute(TILE)
    assert got == pytest.approx([float(stack.ndarray[i].mean()) + i for i in range(len(stack))])
    bands = wf.zip(ic.mean(axis="images")).map(lambda t: t[0].max(axis="bands")).compute(TILE)
    composite = stack.ndarray.mean(axis=0)
    assert len(bands) == 2 and all(list(b.bandinfo) == ["max"] for b in bands)
    assert np.ma.allclose(bands[1].ndarray[0], composite[1])
