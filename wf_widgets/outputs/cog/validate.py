"""Check that a file is a Cloud Optimized GeoTIFF: :func:`validate_cog`.

The TIFF structure (the chain of IFDs, tile offsets) is read with :mod:`struct`, so the
check sees the byte layout itself, not what a GDAL version makes of it.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any, Union

from rasterio.io import MemoryFile

from .write import BLOCKSIZE

_TIFF_TYPES = {1: "B", 2: "B", 3: "H", 4: "I", 6: "b", 7: "B", 8: "h", 9: "i", 16: "Q", 17: "q"}
_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8}
_WIDTH, _HEIGHT, _SUBFILE, _TILE_WIDTH, _TILE_OFFSETS, _STRIP_OFFSETS = 256, 257, 254, 322, 324, 273


def _tiff_ifds(data: bytes) -> list[tuple[int, dict[int, Any]]]:
    """(offset, {tag: values}) of every IFD of a classic or Big TIFF, in file order of the chain."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        raise ValueError("not a TIFF file")
    big = struct.unpack(order + "H", data[2:4])[0] == 43
    offset = struct.unpack(order + ("Q" if big else "I"), data[8:16] if big else data[4:8])[0]
    count_fmt, entry_size, ptr_fmt = ("Q", 20, "Q") if big else ("H", 12, "I")
    ifds = []
    while offset and len(ifds) < 1000:
        (count,) = struct.unpack_from(order + count_fmt, data, offset)
        start = offset + (8 if big else 2)
        tags: dict[int, Any] = {}
        for i in range(count):
            pos = start + i * entry_size
            tag, kind = struct.unpack_from(order + "HH", data, pos)
            n = struct.unpack_from(order + ("Q" if big else "I"), data, pos + 4)[0]
            value_pos = pos + (12 if big else 8)
            size = _TIFF_SIZES.get(kind, 1) * n
            if size > (8 if big else 4):
                value_pos = struct.unpack_from(order + ptr_fmt, data, value_pos)[0]
            if kind in _TIFF_TYPES:
                tags[tag] = struct.unpack_from(order + _TIFF_TYPES[kind] * n, data, value_pos)
        ifds.append((offset, tags))
        offset = struct.unpack_from(order + ptr_fmt, data, start + count * entry_size)[0]
    return ifds


def validate_cog(src: Union[str, "os.PathLike[str]", bytes], *, expect_overviews: bool | None = None) -> list[str]:
    """Problems that keep a file from being a Cloud Optimized GeoTIFF (empty list: valid).

    Checks what rio-cogeo's validator checks: every image is tiled; all IFDs come before
    any image data; the full-resolution image's IFD is first; overviews shrink in order and
    their data is stored before the data of the larger levels; and GDAL reports
    ``LAYOUT=COG``. An image larger than one tile without overviews is a problem unless
    ``expect_overviews`` is False; with ``expect_overviews=True`` missing overviews always are.

    Parameters
    ----------
    src : path or bytes
        The GeoTIFF.
    expect_overviews : bool, optional
        Whether overviews must (True) or must not (False) be present; None: only for
        images larger than one tile.

    Returns
    -------
    list of str
    """
    data = bytes(src) if isinstance(src, (bytes, bytearray, memoryview)) else Path(src).read_bytes()
    problems: list[str] = []
    try:
        ifds = _tiff_ifds(data)
    except Exception as exc:  # struct errors on truncated files
        return [f"cannot read the TIFF structure: {exc}"]
    first_data = min(
        (o for _, tags in ifds for o in tags.get(_TILE_OFFSETS, tags.get(_STRIP_OFFSETS, ())) if o), default=len(data)
    )
    if any(offset > first_data for offset, _ in ifds):
        problems.append("an IFD comes after image data (IFDs must all be at the start of the file)")
    if any(_TILE_OFFSETS not in tags for _, tags in ifds):
        problems.append("not tiled (every image and overview must be tiled)")
    images = [tags for _, tags in ifds if not (tags.get(_SUBFILE, (0,))[0] & 4)]  # skip masks
    if images and images[0].get(_SUBFILE, (0,))[0] & 1:
        problems.append("the first IFD is not the full-resolution image")
    widths = [tags[_WIDTH][0] for tags in images]
    if widths != sorted(widths, reverse=True):
        problems.append(f"overviews are not in decreasing size order: {widths}")
    starts = [min((o for o in tags.get(_TILE_OFFSETS, ()) if o), default=0) for tags in images]
    if any(a and b and b > a for a, b in zip(starts, starts[1:])):
        problems.append("overview data is stored after the data of a larger level (smallest must come first)")
    has_overviews = len(images) > 1
    if images:
        tile = images[0].get(_TILE_WIDTH, (BLOCKSIZE,))[0]
        big = max(images[0][_WIDTH][0], images[0][_HEIGHT][0]) > tile
        if expect_overviews and not has_overviews:
            problems.append("no overviews")
        elif expect_overviews is None and big and not has_overviews:
            problems.append("larger than one tile but has no overviews")
        elif expect_overviews is False and has_overviews:
            problems.append("has overviews")
    with MemoryFile(data) as memfile, memfile.open() as ds:
        if ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") != "COG":
            problems.append("GDAL does not report LAYOUT=COG")
    return problems
