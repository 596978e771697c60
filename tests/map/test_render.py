"""engine/render.py: colormaps, scaling, masks, tile and view geocontexts, PNG."""

from __future__ import annotations

import numpy as np
import pytest

from wf_widgets.engine import render
from wf_widgets.errors import ValidationError

from .conftest import decode_png


def test_colormaps_are_256_entry_tables():
    assert render.colormap_names() == sorted(["gray", "viridis", "magma", "inferno", "plasma", "gray_r", "viridis_r",
                                              "magma_r", "inferno_r", "plasma_r"])
    for name in render.colormap_names():
        table = render.colormap(name)
        assert table.shape == (256, 3) and table.dtype == np.uint8
    assert (np.abs(render.colormap("gray")[:, 0].astype(int) - np.arange(256)) <= 1).all()  # matplotlib's bytes
    assert render.colormap("viridis")[0].tolist() == [68, 1, 84]  # matplotlib's first and last entries
    assert render.colormap("viridis")[255].tolist() == [253, 231, 36]
    assert (render.colormap("magma_r") == render.colormap("magma")[::-1]).all()
    assert render.colormap("Viridis")[128].tolist() == render.colormap("viridis")[128].tolist()
    with pytest.raises(ValidationError, match="Unknown colormap 'jet' for 'colormap'; allowed: 'gray'"):
        render.colormap("jet")


def test_every_colormap_table_is_rio_tilers_byte_for_byte():
    from rio_tiler.colormap import cmap  # matplotlib's tables, as rio-tiler bundles them

    for name in render.colormap_names():
        theirs = np.array([cmap.get(name)[i] for i in range(256)], dtype=np.uint8)
        assert (theirs[:, 3] == 255).all()
        assert render.colormap(name).tobytes() == theirs[:, :3].tobytes(), name
    assert not render.colormap("viridis").flags.writeable  # shared: nobody can change them


def test_scaling_is_rio_tilers_rescale():
    from rio_tiler.models import rescale_image

    values = np.linspace(-10.0, 110.0, 100_003)  # every level, many points between two levels
    data = np.ma.masked_array(values.reshape(1, 1, -1))
    for lo, hi in ((0.0, 100.0), (3.3, 97.1)):
        ours = render.to_rgba(data, scales=(lo, hi), colormap_name="gray")[0, :, 0]
        theirs = rescale_image(np.ma.masked_array(values.reshape(1, 1, -1), mask=False), in_range=((lo, hi),))[0, 0]
        assert ours.tolist() == render.colormap("gray")[theirs, 0].tolist()


def test_one_band_through_a_colormap_with_scales_and_a_transparent_mask():
    data = np.ma.masked_array([[[0.0, 40.0, 100.0, 7.0]]], mask=[[[False, False, False, True]]])
    rgba = render.to_rgba(data, scales=[(0, 100)])
    assert rgba.shape == (1, 4, 4)
    assert rgba[0, :3].tolist() == [[0, 0, 0, 255], [102, 102, 102, 255], [255, 255, 255, 255]]
    assert rgba[0, 3].tolist() == [0, 0, 0, 0]  # masked: transparent
    rgba = render.to_rgba(data, scales=(0, 100), colormap_name="viridis")
    assert rgba[0, 2, :3].tolist() == [253, 231, 36]
    inverted = render.to_rgba(data, scales=(100, 0))
    assert inverted[0, 0, 0] == 255 and inverted[0, 2, 0] == 0


def test_values_outside_the_scales_clip_and_nan_is_transparent():
    data = np.ma.masked_array([[[-5.0, 500.0, np.nan]]])
    rgba = render.to_rgba(data, scales=(0, 100))
    assert rgba[0, :, 0].tolist() == [0, 255, 0] and rgba[0, :, 3].tolist() == [255, 255, 0]


def test_checkerboard_under_masked_pixels():
    data = np.ma.masked_all((1, 32, 32))
    rgba = render.to_rgba(data, scales=(0, 1), checkerboard=True)
    assert (rgba[..., 3] == 200).all()
    assert rgba[0, 0, 0] != rgba[0, render.CHECKER, 0]  # squares alternate
    assert rgba[0, 0, 0] == rgba[render.CHECKER, render.CHECKER, 0]


def test_three_bands_are_rgb_and_two_bands_show_the_first():
    data = np.ma.masked_array(np.array([[[10.0]], [[20.0]], [[30.0]], [[99.0]]]))
    rgba = render.to_rgba(data, scales=[(0, 40), (0, 40), (0, 40)])
    assert rgba[0, 0].tolist() == [63, 127, 191, 255]  # floor(255 * v / 40), as rio-tiler's rescale
    assert render.to_rgba(data[:2], scales=(0, 40))[0, 0].tolist() == [63, 63, 63, 255]
    with pytest.raises(ValidationError, match="colormap 'viridis' applies to one band"):
        render.to_rgba(data, scales=(0, 1), colormap_name="viridis")
    # a pixel masked in one of the RGB bands is transparent
    masked = np.ma.masked_array(data.data[:3], mask=[[[False]], [[True]], [[False]]])
    assert render.to_rgba(masked, scales=(0, 40))[0, 0, 3] == 0


def test_autoscale_uses_the_2nd_and_98th_percentiles():
    values = np.ma.masked_array(np.arange(101, dtype=float).reshape(1, 1, 101))
    assert render.autoscale(values) == [[2.0, 98.0]]
    assert render.autoscale(np.ma.masked_all((1, 3, 3))) is None
    assert render.autoscale(np.ma.masked_array(np.full((1, 2, 2), 5.0))) == [[4.5, 5.5]]


@pytest.mark.parametrize("scales, message", [
    ("0,1", "expected \\(min, max\\)"),
    ([(0, 1), (0, 1)], "2 \\(min, max\\) pairs for 1 shown band"),
    ([(1, 1)], "two different finite numbers"),
    ([(0, "x")], "expected \\(min, max\\)"),
    ([], "expected \\(min, max\\)"),
])
def test_bad_scales(scales, message):
    with pytest.raises(ValidationError, match=message) as info:
        render.normalize_scales(scales, 1)
    assert info.value.field == "scales"


def test_scales_forms():
    assert render.normalize_scales((0, 1), 3) == [[0.0, 1.0]] * 3
    assert render.normalize_scales([(0, 1)], 1) == [[0.0, 1.0]]
    assert render.normalize_scales([[0, 1], [2, 3], [4, 5]], None) == [[0, 1], [2, 3], [4, 5]]
    assert render.normalize_scales((0, 1), None) == [[0.0, 1.0]]


def test_tile_geocontexts():
    assert render.tile_bounds(0, 0, 0) == (-render.ORIGIN, -render.ORIGIN, render.ORIGIN, render.ORIGIN)
    ctx = render.tile_geocontext(1, 1, 0)
    assert ctx.crs == "EPSG:3857" and ctx.shape == (256, 256)
    assert ctx.bounds == (0.0, 0.0, render.ORIGIN, render.ORIGIN)
    with pytest.raises(ValidationError, match="No tile 2/4/0: x and y must be below 4 at zoom 2"):
        render.tile_geocontext(2, 4, 0)
    with pytest.raises(ValidationError, match="Invalid zoom 25"):
        render.tile_geocontext(25, 0, 0)
    view = render.view_geocontext(-106.0, 35.0, -105.0, 35.5, max_size=256)
    assert view.width == 256 and 100 < view.height < 256


def test_png_round_trip():
    data = np.ma.masked_array(np.linspace(0, 1, 256 * 256).reshape(1, 256, 256))
    png = render.render_png(data, scales=(0, 1))
    pixels = decode_png(png)
    assert pixels.shape == (256, 256, 4)
    assert pixels[0, 0].tolist() == [0, 0, 0, 255] and pixels[-1, -1].tolist() == [255, 255, 255, 255]
    assert render.data_url(png).startswith("data:image/png;base64,iVBOR")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # rio-tiler's PNG, read back
@pytest.mark.parametrize("zoom", [14, 15])
def test_a_rendered_tile_equals_rio_tilers(map_backend, zoom):
    """Same COG, z/x/y, rescale and colormap as rio-tiler: the same RGBA bytes.

    Exactly, from the same pixels (rio-tiler's tile through :func:`render.to_rgba`). From our
    own read (:func:`render.render_tile`) too, except where the two warps take a neighbouring
    source pixel (GDAL's approximate transformer: a few pixels per tile, whose colour is then
    that of another value, not within a level).
    """
    import rasterio
    from rio_tiler.colormap import cmap
    from rio_tiler.io import Reader

    import wf_widgets as wf
    from wf_widgets.engine.reading import CatalogReader

    from ..engine._helpers import make_product, upload
    from .conftest import CRS, ORIGIN, RES, pixel_at, point

    make_product(map_backend.catalog, "org:noise")
    data = np.random.default_rng(5).integers(1, 10001, (1, 300, 300), dtype=np.uint16)  # every level, at random
    data[0, :60, :60] = 0  # nodata
    upload(map_backend.catalog, "org:noise", "img", data, CRS, (ORIGIN[0], RES, 0.0, ORIGIN[1], 0.0, -RES))
    path = CatalogReader.for_backend(map_backend).image_scene("org:noise:img").path
    graph = wf.Image.from_id("org:noise:img").to_json()
    z, x0, y0, _, _ = pixel_at(*point(0, 0), z=zoom)  # the tile of the north-west corner, and 3 more south-east
    shown_fraction, other_source = [], []
    for x, y in ((x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)):
        with Reader(path) as src:
            tile = src.tile(x, y, z, tilesize=256)
        ours_read = render.read_image(graph, render.tile_geocontext(z, x, y), map_backend)
        same_source = (np.ma.getdata(ours_read[0]) == tile.array.data[0]) & (ours_read.mask[0] == tile.array.mask[0])
        other_source.append(1.0 - same_source.mean())
        for name, scales in (("viridis", (500, 9500)), ("magma_r", (2000, 3000)), ("gray", (0, 10000))):
            from_their_pixels = render.to_rgba(tile.array.copy(), scales=scales, colormap_name=name)
            ours = decode_png(render.render_tile(graph, z, x, y, scales=scales, colormap_name=name, backend=map_backend))
            with Reader(path) as src:
                rescaled = src.tile(x, y, z, tilesize=256)
            rescaled.rescale(in_range=(scales,))
            with rasterio.MemoryFile(rescaled.render(img_format="PNG", colormap=cmap.get(name))) as f, f.open() as png:
                theirs = np.moveaxis(png.read(), 0, -1)
            shown = theirs[..., 3] == 255
            shown_fraction.append(shown.mean())
            assert (from_their_pixels[..., 3] == theirs[..., 3]).all() and (from_their_pixels[shown] == theirs[shown]).all()
            assert (ours[same_source, 3] == theirs[same_source, 3]).all(), (name, x, y)  # transparent alike
            assert (ours[same_source & shown] == theirs[same_source & shown]).all(), (name, x, y)
    assert 0.2 < np.mean(shown_fraction) < 0.9  # inside, outside and the nodata block were all compared
    assert max(other_source) < 0.001, other_source
