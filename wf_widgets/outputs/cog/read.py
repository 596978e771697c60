"""Read a GeoTIFF (a COG or any other): its header (:func:`read_info`) and its pixels (:func:`read_cog`).

What the file holds is returned as it is stored (band descriptions, tag text); what it
means for a result (band names, properties) is the caller's business.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from typing import IO, Iterator, Mapping, Union

import numpy as np
import rasterio  # at import time, never first in a worker thread: rasterio sets PROJ's data path on import
from affine import Affine
from rasterio.io import MemoryFile
from rasterio.session import DummySession, Session

#: What can be read: a path, the file's bytes, or a binary file-like.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


#: GDAL options that rasterio refuses in ``rasterio.Env(**options)`` (it wants a session for them).
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class _Credentials(Session):
    """A rasterio session handing GDAL the object store's credentials as they are (no boto3)."""

    def __init__(self, options: Mapping[str, str]):
        self._options = dict(options)

    @classmethod
    def hascreds(cls, config: Mapping[str, str]) -> bool:
        return True

    def get_credential_options(self) -> dict[str, str]:
        return dict(self._options)


def gdal_env(options: Mapping[str, str] | None = None) -> rasterio.Env:
    """A ``rasterio.Env`` with the GDAL configuration ``options``, credentials included.

    ``options`` come from the object store (:meth:`wf_widgets.storage.S3Storage.gdal_options`:
    ``/vsis3/`` endpoint, region, credentials; none for files). rasterio takes AWS credentials
    only through a session, so they are handed over by one, and without credentials the Env
    gets an empty session: rasterio never builds a boto3 session from AWS variables in the
    environment (where boto3 is installed that costs about 7 ms per Env).
    """
    options = dict(options or {})
    credentials = {k: options.pop(k) for k in _CREDENTIALS if k in options}
    return rasterio.Env(session=_Credentials(credentials) if credentials else DummySession(), **options)


@dataclasses.dataclass(frozen=True)
class RasterInfo:
    """A GeoTIFF's header.

    Attributes
    ----------
    count, width, height : int
        Bands and size in pixels (of the grid read, for a :class:`Raster`).
    crs : str or None
        Coordinate reference system (``"EPSG:32613"``), None when the file has none.
    transform : affine.Affine
        Pixel to CRS transform (of the grid read, for a :class:`Raster`).
    nodata : float or None
    descriptions : tuple of (str or None)
        Band descriptions as stored (None where a band has none).
    tags : dict of str
        Dataset metadata tags of the default domain, as text.
    """

    count: int
    width: int
    height: int
    crs: str | None
    transform: Affine
    nodata: float | None
    descriptions: tuple[str | None, ...]
    tags: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Raster(RasterInfo):
    """A GeoTIFF's header and pixels.

    Attributes
    ----------
    array : numpy.ma.MaskedArray
        ``(bands, y, x)`` in the file's data type, masked from the dataset mask (or nodata).
    """

    array: np.ma.MaskedArray


@contextlib.contextmanager
def _opened(src: Source) -> Iterator:
    """The open dataset: bytes are opened from memory, anything else by rasterio."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        with MemoryFile(bytes(src)) as memfile, memfile.open() as ds:
            yield ds
    else:
        with rasterio.open(os.fspath(src) if isinstance(src, os.PathLike) else src) as ds:
            yield ds


def _header(ds, transform: Affine, width: int, height: int) -> dict:
    return dict(
        count=ds.count, width=width, height=height, crs=ds.crs.to_string() if ds.crs else None,
        transform=transform, nodata=ds.nodata, descriptions=tuple(ds.descriptions), tags=ds.tags(),
    )


def read_info(src: Source) -> RasterInfo:
    """The header of a GeoTIFF, without reading its pixels.

    Parameters
    ----------
    src : path, bytes or binary file-like
        The GeoTIFF.
    """
    with _opened(src) as ds:
        return RasterInfo(**_header(ds, ds.transform, ds.width, ds.height))


def read_cog(src: Source, *, max_size: int | None = None) -> Raster:
    """Read a GeoTIFF: its header and its pixels as a masked array.

    Parameters
    ----------
    src : path, bytes or binary file-like
        The GeoTIFF.
    max_size : int, optional
        Read a decimated copy whose larger side is at most this many pixels (from the
        overviews when present); size and transform then describe the decimated grid.

    Returns
    -------
    Raster
    """
    with _opened(src) as ds:
        width, height = ds.width, ds.height
        transform = ds.transform
        out_shape = None
        if max_size is not None and max(width, height) > max_size:
            step = math.ceil(max(width, height) / max_size)
            w, h = max(1, width // step), max(1, height // step)
            out_shape = (ds.count, h, w)
            sx, sy = width / w, height / h
            transform = Affine(transform.a * sx, transform.b * sy, transform.c,
                               transform.d * sx, transform.e * sy, transform.f)
            width, height = w, h
        array = ds.read(masked=True, out_shape=out_shape)
        return Raster(**_header(ds, transform, width, height), array=array)
