"""Fixtures of the map tests: a small product with known pixels, servers on 127.0.0.1."""

from __future__ import annotations

import math

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.server import stop_thread_server
from wf_widgets.server.thread import ThreadServer

from ..engine._helpers import make_product, upload

#: The known image: EPSG:32613, 10 m pixels, 200 x 200, top-left corner at (400000, 4000000).
CRS = "EPSG:32613"
ORIGIN = (400000.0, 4000000.0)
RES = 10.0
SIZE = 200
#: Values (UInt16 counts, no physical range): west half 1000, east half 3000, a nodata
#: (masked) block in rows 150..199, cols 0..49.
WEST, EAST = 1000, 3000
PRODUCT = "org:known"
IMAGE = "org:known:img"
ZOOM = 15


def known_array() -> np.ndarray:
    arr = np.full((1, SIZE, SIZE), WEST, dtype=np.uint16)
    arr[0, :, SIZE // 2:] = EAST
    arr[0, 150:, :50] = 0  # nodata: masked
    return arr


def utm_to_lonlat(e: float, n: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(e, n)


def pixel_at(lon: float, lat: float, z: int = ZOOM) -> tuple[int, int, int, int, int]:
    """``(z, x, y, col, row)``: the XYZ tile holding a lon/lat point and the point's pixel in it."""
    n = 256 * 2 ** z
    px = (lon + 180.0) / 360.0 * n
    py = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return z, int(px // 256), int(py // 256), int(px) % 256, int(py) % 256


@pytest.fixture
def map_backend(backend):
    """The isolated default backend; its kernel-thread server is stopped after the test."""
    yield backend
    stop_thread_server(backend)


@pytest.fixture
def known(map_backend):
    """The product ``org:known`` with image ``org:known:img`` (see :func:`known_array`); returns the Image value."""
    store = map_backend.catalog
    make_product(store, PRODUCT, bands=("b1",))
    upload(store, PRODUCT, "img", known_array(), CRS, (ORIGIN[0], RES, 0.0, ORIGIN[1], 0.0, -RES))
    return wf.Image.from_id(IMAGE)


def point(col: float, row: float) -> tuple[float, float]:
    """lon/lat of a pixel position (col, row) of the known image."""
    return utm_to_lonlat(ORIGIN[0] + col * RES, ORIGIN[1] - row * RES)


@pytest.fixture
def app_server(map_backend):
    """Factory: serve ``make_app(backend, base_path)`` (the standalone mount); returns its base URL."""
    servers = []

    def start(base_path="/"):
        s = ThreadServer(map_backend, register=False, base_path=base_path, kind="standalone")
        servers.append(s)
        return s.url + base_path.rstrip("/")

    yield start
    for s in servers:
        s.stop()


def decode_png(data: bytes) -> np.ndarray:
    """RGBA pixels ``(y, x, 4)`` of an 8-bit RGBA PNG without interlacing (what we write)."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert (depth, color) == (8, 6)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * 4)
    assert (raw[:, 0] == 0).all(), "only filter type 0 is decoded here"
    return raw[:, 1:].reshape(height, width, 4)
