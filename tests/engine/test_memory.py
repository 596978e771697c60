"""engine/memory.py: the memory a graph needs in its geocontext, refused before any work beyond max_memory."""

from __future__ import annotations

import time

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.config import default_max_memory
from wf_widgets.demo_data import N_SCENES
from wf_widgets.engine import memory
from wf_widgets.engine.evaluate import EvalContext
from wf_widgets.errors import ValidationError

GB = 10**9
SANTA_FE = (35.6870, -105.9378)
TILE_4096 = wf.DLTile.from_latlon(*SANTA_FE, 10, 4096, 0)
TILE_200K = wf.DLTile.from_latlon(*SANTA_FE, 10, 200_000, 0)
#: A 24 GB machine's default limit.
LIMIT_24GB = default_max_memory(24 * GB)


def collection():
    return wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01")


def estimate(value, tile, backend):
    return memory.estimate(value.node, EvalContext.for_backend(backend, tile))


def test_a_4096_pixel_composite_of_20_scenes_fits_a_24gb_machine(demo_backend):
    pixels = 4096 * 4096
    stack = N_SCENES * 2 * pixels * 8  # float64 scenes x bands x pixels: about 5.4 GB
    assert 5.3 * GB < stack < 5.4 * GB
    median = estimate(collection().median(axis="images"), TILE_4096, demo_backend)
    assert stack < median.total <= LIMIT_24GB  # the whole stack is read, and numpy's temporaries
    assert median.largest_what == f"an ImageCollection of {N_SCENES} image(s) x 2 band(s) x 4096 x 4096 pixels"
    mean = estimate(collection().mean(axis="images"), TILE_4096, demo_backend)
    assert mean.total < stack / 3  # streamed: one scene at a time
    memory.check(collection().median(axis="images").node, EvalContext.for_backend(demo_backend, TILE_4096),
                 LIMIT_24GB)


def test_counts_the_scenes_of_the_catalog_query(demo_backend):
    few = estimate(wf.ImageCollection.from_id("sentinel-1:GRD", "2020-02-01", "2020-03-01"), TILE_4096, demo_backend)
    every = estimate(collection(), TILE_4096, demo_backend)
    assert few.total * 2 < every.total  # 5 scenes against 20: the whole stack is the result
    assert few.largest == 5 * 2 * 4096 * 4096 * memory.PIXEL_BYTES


def test_a_200000_pixel_tile_is_refused_with_the_estimate_and_the_setting(demo_backend):
    with pytest.raises(ValidationError, match=r"This computation needs an estimated [\d.]+ TiB of memory, more than "
                                              r"the limit max_memory = 16.8 GiB.*WF_WIDGETS_MAX_MEMORY") as info:
        memory.check(collection().mean(axis="images").node, EvalContext.for_backend(demo_backend, TILE_200K),
                     LIMIT_24GB)
    assert info.value.field == "max_memory" and info.value.value > 2 * 200_000**2 * 8


def test_launch_refuses_before_a_job_exists(demo_backend):
    composite = collection().mean(axis="images")
    before = len(demo_backend.jobs.list(limit=10_000))
    start = time.perf_counter()
    with pytest.raises(ValidationError, match=r"needs an estimated [\d.]+ TiB of memory.*"
                                              r"an Image of 2 band\(s\) x 200000 x 200000 pixels"):
        composite.compute(TILE_200K, block=False)
    assert time.perf_counter() - start < 5
    assert len(demo_backend.jobs.list(limit=10_000)) == before  # no row was created


def test_arrays_count_with_broadcasting(backend):
    column = wf.Array(np.zeros((100_000, 1)))
    row = wf.Array(np.zeros((1, 100_000)))
    est = memory.estimate((column + row).node)
    assert est.largest == 100_000 * 100_000 * memory.ITEM_BYTES
    with pytest.raises(ValidationError, match=r"needs an estimated 149.0 GiB .*an Array of shape \(100000, 100000\)"):
        (column + row).compute(block=False)
    assert backend.jobs.list() == []
    assert memory.estimate((column + row).sum(axis=0).node).largest == est.largest
    assert (column + 1).compute().shape == (100_000, 1)


def test_the_setting_changes_the_limit(make_backend, demo_home):
    small = make_backend(home=demo_home, user="user:alice", max_memory="1MiB")
    tile = wf.DLTile.from_latlon(*SANTA_FE, 10, 256, 0)
    before = len(small.jobs.list(limit=10_000))
    with pytest.raises(ValidationError, match=r"more than the limit max_memory = 1.0 MiB"):
        collection().compute(tile, block=False)
    assert len(small.jobs.list(limit=10_000)) == before


def test_format_bytes():
    assert [memory.format_bytes(n) for n in (0, 1023, 1024, 5.4 * GB, 596 * 2**30, 3 * 2**40)] == [
        "0 B", "1023 B", "1.0 KiB", "5.0 GiB", "596.0 GiB", "3.0 TiB"]
