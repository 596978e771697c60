"""Result types returned by ``compute()`` for Image and ImageCollection values.

Plain data (a masked array, properties, band info, geocontext) with an HTML card; they
live in ``outputs`` so that the codecs (which encode them) and the engine (which makes
them) both import them from below.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from typing import Any

import numpy as np

from .._cards import image_card


class ImageResult:
    """A computed Image.

    Attributes
    ----------
    ndarray : numpy.ma.MaskedArray
        Pixel values, shape ``(bands, y, x)``, float64 unless the graph says otherwise.
    properties : dict
        Image properties (``"date"``, ``"product"``, ...); JSON-able values or datetimes.
    bandinfo : OrderedDict
        Band name -> dict of band information, in band order.
    geocontext : dict
        The GeoContext's dict form (``crs``, ``transform``, ``width``, ``height``, ...).
    """

    kind = "Image"

    def __init__(self, ndarray: np.ndarray, properties: dict | None = None, bandinfo: Any = None, geocontext: dict | None = None):
        arr = np.ma.asarray(ndarray)
        if arr.ndim != 3:
            raise ValueError(f"ImageResult ndarray must be 3-D (bands, y, x), got shape {arr.shape}")
        self.ndarray = arr
        self.properties = dict(properties or {})
        if bandinfo is None:
            bandinfo = OrderedDict((f"b{i}", {}) for i in range(arr.shape[0]))
        self.bandinfo = OrderedDict(bandinfo)
        if len(self.bandinfo) != arr.shape[0]:
            raise ValueError(f"bandinfo names {len(self.bandinfo)} bands but ndarray has {arr.shape[0]}")
        self.geocontext = dict(geocontext or {})

    @property
    def band_names(self) -> list[str]:
        return list(self.bandinfo)

    def __repr__(self) -> str:
        return (
            f"ImageResult:\n  * ndarray: MaskedArray<shape={self.ndarray.shape}, dtype={self.ndarray.dtype}>\n"
            f"  * properties: {', '.join(map(str, self.properties)) or '(none)'}\n"
            f"  * bandinfo: {', '.join(self.bandinfo)}\n"
            f"  * geocontext: {', '.join(self.geocontext) or '(none)'}"
        )

    def _repr_html_(self) -> str:
        b, h, w = self.ndarray.shape
        rows = [
            ("bands", ", ".join(self.bandinfo)),
            ("size", f"{w} x {h} px, {b} band(s), {self.ndarray.dtype}"),
            ("crs", self.geocontext.get("crs", "")),
        ]
        if "date" in self.properties:
            rows.append(("acquired", str(self.properties["date"])))
        return image_card("ImageResult", rows, self.ndarray)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageResult):
            return NotImplemented
        return (
            self.ndarray.shape == other.ndarray.shape
            and np.ma.allequal(self.ndarray, other.ndarray)
            and np.array_equal(np.ma.getmaskarray(self.ndarray), np.ma.getmaskarray(other.ndarray))
            and self.properties == other.properties
            and list(self.bandinfo) == list(other.bandinfo)
            and self.geocontext == other.geocontext
        )


class ImageCollectionResult:
    """A computed ImageCollection.

    Attributes
    ----------
    ndarray : numpy.ma.MaskedArray
        Shape ``(images, bands, y, x)``.
    properties : list of dict
        One properties dict per image.
    bandinfo : OrderedDict
        Band name -> dict of band information.
    geocontext : dict
        The GeoContext's dict form.
    """

    kind = "ImageCollection"

    def __init__(self, ndarray: np.ndarray, properties: list | None = None, bandinfo: Any = None, geocontext: dict | None = None):
        arr = np.ma.asarray(ndarray)
        if arr.ndim != 4:
            raise ValueError(f"ImageCollectionResult ndarray must be 4-D (images, bands, y, x), got shape {arr.shape}")
        self.ndarray = arr
        self.properties = list(properties) if properties is not None else [{} for _ in range(arr.shape[0])]
        if bandinfo is None:
            bandinfo = OrderedDict((f"b{i}", {}) for i in range(arr.shape[1]))
        self.bandinfo = OrderedDict(bandinfo)
        self.geocontext = dict(geocontext or {})

    def __len__(self) -> int:
        return self.ndarray.shape[0]

    def __repr__(self) -> str:
        return (
            f"ImageCollectionResult:\n  * ndarray: MaskedArray<shape={self.ndarray.shape}, dtype={self.ndarray.dtype}>\n"
            f"  * properties: {len(self.properties)} items\n"
            f"  * bandinfo: {', '.join(self.bandinfo)}\n"
            f"  * geocontext: {', '.join(self.geocontext) or '(none)'}"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"
