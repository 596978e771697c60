"""GeoTIFF codec: an Image result as the bytes of a Cloud Optimized GeoTIFF, and back.

The file itself (layout, overviews, masks, tag text) is :mod:`wf_widgets.outputs.cog`'s
business; this module decides what of an :class:`~wf_widgets.outputs.results.ImageResult`
goes where:

* pixels in the array's own data type; masked pixels as an internal per-dataset mask
  (``mask_mode="auto"`` without nodata);
* band names as band descriptions;
* image properties as dataset tags, for other GIS tools (keys that are not tag names, such
  as ``"odd key"``, are left out);
* the exact properties, band info and geocontext also as JSON in three tags named
  ``WF_WIDGETS_*``, so that :func:`decode` gives back what was encoded (GDAL copies only
  the default metadata domain when it writes a GeoTIFF, so they cannot live in a domain of
  their own). A foreign GeoTIFF decodes with properties from its tags (JSON where the text
  is JSON), band names from its descriptions (``b0``, ``b1``, ... where missing) and the
  geocontext from its georeferencing.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np

from ...errors import ValidationError
from ..cog import CogProfile, Raster, read_cog, write_cog
from ..registry import FORMATS
from ..results import ImageResult

#: Option names of the geotiff format (the normalised format dict without ``"type"``); their
#: defaults, from the same table, are :class:`~wf_widgets.outputs.cog.CogProfile`'s.
OPTIONS: tuple[str, ...] = tuple(o.name for o in FORMATS["geotiff"].options)
#: Dataset tags holding the exact JSON of properties, band info and geocontext.
_EXACT = {key: f"WF_WIDGETS_{key.upper()}" for key in ("properties", "bandinfo", "geocontext")}
_TAG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    opts = {k: v for k, v in dict(options or {}).items() if k != "type"}
    for key in opts:
        if key not in OPTIONS:
            raise ValidationError.bad_value("format", key, OPTIONS, what="option")
    if "overviews" in opts:
        if not isinstance(opts["overviews"], (bool, np.bool_)):
            raise ValidationError(f"format.overviews must be True or False, got {opts['overviews']!r}",
                                  field="format.overviews", value=opts["overviews"], allowed=(True, False))
        opts["overviews"] = bool(opts["overviews"])
    return opts


def _dump_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    dates = sorted(k for k, v in properties.items() if isinstance(v, _dt.datetime))
    return {"values": dict(properties), "datetimes": dates}


def _load_properties(doc: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(doc.get("values", {}))
    for key in doc.get("datetimes", ()):
        if isinstance(values.get(key), str):
            values[key] = _dt.datetime.fromisoformat(values[key])
    return values


def _untag(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def encode(value: Any, options: Mapping[str, Any] | None = None) -> bytes:
    """Encode an Image result as the bytes of a Cloud Optimized GeoTIFF.

    Parameters
    ----------
    value : ImageResult
        The computed image; its geocontext must have ``crs`` and ``transform``.
    options : dict, optional
        The normalised geotiff format options (``overviews``, ``compression``,
        ``overview_resampler``); ``"type"`` is ignored, other keys are errors.

    Returns
    -------
    bytes
        The GeoTIFF (see the module docstring for what goes where).

    Raises
    ------
    ValidationError
        When ``value`` is not an Image result or an option is bad.
    """
    if not isinstance(value, ImageResult):
        raise ValidationError(
            f"GeoTIFF needs an Image result, got {type(value).__name__}", field="format", value="geotiff"
        )
    opts = _check_options(options or {})
    gc = value.geocontext
    missing = [k for k in ("crs", "transform") if gc.get(k) is None]
    if missing:
        raise ValidationError(
            f"GeoTIFF needs the geocontext's {' and '.join(missing)}; the Image result has none",
            field="geocontext", value=sorted(gc),
        )
    properties = value.properties
    profile = CogProfile(
        crs=gc["crs"], transform=gc["transform"], band_names=list(value.bandinfo),
        tags={
            **{k: v for k, v in properties.items() if _TAG_KEY.match(str(k))},
            _EXACT["properties"]: _dump_properties(properties),
            _EXACT["bandinfo"]: value.bandinfo,
            _EXACT["geocontext"]: gc,
        },
        mask_mode="auto", **opts,
    )
    return write_cog(None, value.ndarray, profile)


def decode(data: bytes) -> ImageResult:
    """Decode GeoTIFF bytes (as written by :func:`encode`, or any GeoTIFF) into an ImageResult.

    Parameters
    ----------
    data : bytes
        The file's bytes.

    Returns
    -------
    ImageResult
        Masked array from the dataset mask (or nodata), band names from the band
        descriptions, properties from the tags, geocontext with crs, transform, width, height.
    """
    return _image_result(read_cog(data))


def _image_result(raster: Raster) -> ImageResult:
    tags = dict(raster.tags)
    stored = {key: json.loads(tags.pop(_EXACT[key])) for key in _EXACT if _EXACT[key] in tags}
    names: list[str] = []
    for i, description in enumerate(raster.descriptions):
        name = description or f"b{i}"
        names.append(name if name not in names else f"{name}_{i}")
    bandinfo = OrderedDict((name, {}) for name in names)
    if "bandinfo" in stored:
        info = OrderedDict(stored["bandinfo"])
        if list(info) == names:
            bandinfo = info
    if "properties" in stored:
        properties = _load_properties(stored["properties"])
    else:
        properties = {k: _untag(v) for k, v in tags.items() if k != "AREA_OR_POINT"}
    geocontext = stored.get("geocontext", {})
    geocontext.update(crs=raster.crs, transform=tuple(raster.transform)[:6], width=raster.width, height=raster.height)
    return ImageResult(raster.array, properties=properties, bandinfo=bandinfo, geocontext=geocontext)
