"""The demo product ``sentinel-1:GRD``: synthetic Sentinel-1 GRD scenes near Santa Fe.

:func:`make_demo_data` (``wf-widgets demo-data``) writes, through the catalog's upload
path, a public-read product resembling Sentinel-1 GRD so that the examples of the
original documentation run as they are::

    composite = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01").mean(axis="images")
    composite.compute(wf.DLTile.from_latlon(35.6870, -105.9378, 10, 1024, 0))

What it holds (everything derives from a fixed seed, so every home gets the same pixels):

* bands ``vv`` and ``vh``: MicrowaveBand, UInt16, nodata 0, data_range [0, 10000],
  physical_range [-50, 10] dB (reading scales to dB);
* :data:`N_SCENES` scenes every 6 days from 2020-01-03, 1200 x 1200 pixels of 10 m in
  EPSG:32613 on the 10 m grid, shifted around the 1024 px DLTile at (35.6870, -105.9378):
  together they cover the tile except a strip along its east edge (:data:`UNCOVERED_COLS`
  columns), so a composite there is masked;
* terrain-like backscatter (smooth fractal noise, vh about 7 dB below vv, a slow seasonal
  drift) with multiplicative speckle (log-normal: a normal term of :data:`SPECKLE_DB` dB,
  about the spread of 4-look speckle).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from . import catalog
from .backend import Backend, get_backend
from .geo import DLTile

PRODUCT_ID = "sentinel-1:GRD"
SEED = 20200101
N_SCENES = 20
SCENE_PIXELS = 1200
RESOLUTION = 10.0
CRS = "EPSG:32613"
CENTER = (35.6870, -105.9378)  # lat, lon
TILESIZE = 1024
#: Columns on the east side of the 1024 px tile that no scene covers.
UNCOVERED_COLS = 24
FIRST_DATE = _dt.datetime(2020, 1, 3, 13, 25, tzinfo=_dt.timezone.utc)
DAYS_BETWEEN = 6
DATA_RANGE = (0, 10000)
PHYSICAL_RANGE = (-50.0, 10.0)
#: Standard deviation (dB) of the speckle; about that of 4-look intensity speckle.
SPECKLE_DB = 2.3


def _fractal(rng: np.random.Generator, size: int, beta: float = 3.2) -> np.ndarray:
    """Smooth fractal noise (power spectrum ~ 1/f**beta), zero mean, unit std, ``(size, size)``."""
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    spectrum = np.fft.rfft2(rng.standard_normal((size, size))) / f ** (beta / 2)
    spectrum[0, 0] = 0
    field = np.fft.irfft2(spectrum, s=(size, size))
    return (field - field.mean()) / field.std()


def _to_dn(db: np.ndarray) -> np.ndarray:
    """dB (float32, overwritten) -> UInt16 counts in data_range; 0 stays free for nodata."""
    lo, hi = PHYSICAL_RANGE
    db -= lo
    db *= (DATA_RANGE[1] - DATA_RANGE[0]) / (hi - lo)
    db += DATA_RANGE[0]
    np.rint(db, out=db)
    np.clip(db, 1, DATA_RANGE[1], out=db)
    return db.astype(np.uint16)


def scene_layout(tile: Any) -> list[tuple[int, int]]:
    """Top-left pixel offsets ``(col, row)`` of every scene relative to the tile's top-left."""
    rng = np.random.default_rng(SEED + 1)
    east = TILESIZE - UNCOVERED_COLS
    cols = rng.integers(east - SCENE_PIXELS - 250, east - SCENE_PIXELS + 1, N_SCENES)
    cols[rng.integers(N_SCENES)] = east - SCENE_PIXELS  # one scene reaches the strip
    rows = rng.integers(-120, 90, N_SCENES)
    rows[rng.integers(N_SCENES)] = -60  # the northern edge is covered
    return [(int(c), int(r)) for c, r in zip(cols, rows)]


def _scenes(tile: Any):
    """Yield ``(name, acquired, geotrans, array (2, y, x) uint16)`` for every scene."""
    rng = np.random.default_rng(SEED)
    layout = scene_layout(tile)
    min_col = min(c for c, _ in layout)
    min_row = min(r for _, r in layout)
    size = max(max(c for c, _ in layout) - min_col, max(r for _, r in layout) - min_row) + SCENE_PIXELS
    size = 1 << (size - 1).bit_length()
    terrain = _fractal(rng, size)
    moisture = _fractal(rng, size, beta=2.6)
    xmin, ymax = tile.geotrans[0], tile.geotrans[3]
    for i, (col, row) in enumerate(layout):
        acquired = FIRST_DATE + _dt.timedelta(days=DAYS_BETWEEN * i)
        season = np.cos(2 * np.pi * (i / N_SCENES))
        y0, x0 = row - min_row, col - min_col
        window = (slice(y0, y0 + SCENE_PIXELS), slice(x0, x0 + SCENE_PIXELS))
        base = (-11.0 + 3.5 * terrain[window] + (0.8 + 0.4 * season) * moisture[window]).astype(np.float32)
        bands = []
        for offset in (0.0, -7.0):  # vv, vh
            # Log-normal multiplicative speckle: a normal term in dB.
            speckle_db = rng.standard_normal((SCENE_PIXELS, SCENE_PIXELS), dtype=np.float32)
            speckle_db *= SPECKLE_DB
            speckle_db += base + offset
            bands.append(_to_dn(speckle_db))
        geotrans = (xmin + col * RESOLUTION, RESOLUTION, 0.0, ymax - row * RESOLUTION, 0.0, -RESOLUTION)
        name = f"S1_GRD_{acquired:%Y%m%dT%H%M%S}_{i:02d}"
        yield name, acquired, geotrans, np.stack(bands)


def demo_tile() -> DLTile:
    """The 1024 px, 10 m DLTile at the demo point (the spec's tile)."""
    return DLTile.from_latlon(CENTER[0], CENTER[1], RESOLUTION, TILESIZE, 0)


def make_demo_data(backend: Backend | None = None, force: bool = False) -> catalog.Product:
    """Create the demo product ``sentinel-1:GRD`` (public-read) with its scenes, if missing.

    Parameters
    ----------
    backend : Backend, optional
        Whose catalog to write to; the default backend if omitted. Its user becomes the
        product's owner.
    force : bool, default False
        Delete and rebuild the product even if it is complete.

    Returns
    -------
    catalog.Product
        The saved product. A second call finds it complete and does nothing.

    Raises
    ------
    PermissionDenied
        When the product exists but belongs to someone else and must be rebuilt.
    """
    if backend is None:
        backend = get_backend()
    store = backend.catalog
    product = catalog.Product.get(PRODUCT_ID, store=store)
    if product is not None:
        if not force and len(store.list_images(PRODUCT_ID)) == N_SCENES and len(store.list_bands(PRODUCT_ID)) == 2:
            return product
        product.delete(cascade=True)
    product = catalog.Product(
        id=PRODUCT_ID, name="Sentinel-1 GRD (demo)", readers=[catalog.PUBLIC], store=store,
        description="Synthetic Sentinel-1 GRD backscatter near Santa Fe, NM (wf_widgets demo data)",
    ).save()
    for index, name in enumerate(("vv", "vh")):
        catalog.MicrowaveBand(
            name=name, product_id=PRODUCT_ID, data_type="UInt16", nodata=0, data_range=DATA_RANGE,
            physical_range=PHYSICAL_RANGE, physical_range_unit="dB", band_index=index, resolution=RESOLUTION,
            description=f"{name.upper()} backscatter", store=store,
        ).save()
    for name, acquired, geotrans, array in _scenes(demo_tile()):
        image = catalog.Image(name=name, product_id=PRODUCT_ID, acquired=acquired, cs_code=CRS, geotrans=geotrans,
                              extra_properties={"orbit_direction": "ascending", "polarisations": "VV+VH"},
                              store=store)
        image.upload_ndarray(array, overviews=True)
    return product
