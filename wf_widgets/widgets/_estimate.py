"""How big a selection's results are: the one estimate the map and the form both show.

``pixels x bands x BYTES_PER_SAMPLE``, with the band count from the static band rules
(:func:`wf_widgets.values.image.static_bands`). :class:`~wf_widgets.widgets.TileMap` and
:class:`~wf_widgets.widgets.ExportForm` both call :func:`size_estimate` and show
:func:`size_text`, so for the same value and selection they show the same words (the map's
one-line summary shows :func:`size_short`, the same figure).
"""

from __future__ import annotations

import logging
from typing import Any

from ..values.image import static_bands

log = logging.getLogger("wf_widgets.widgets")

#: Bytes per pixel and band of computed imagery (results are float64).
BYTES_PER_SAMPLE = 8
#: Kinds of values that have pixels (and so an estimate).
IMAGE_KINDS = ("Image", "ImageCollection")


def human_bytes(n: float) -> str:
    """``n`` bytes in binary units: ``"512 bytes"``, ``"2.0 MiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"


def known_bands(value: Any) -> list[str] | None:
    """The band names of ``value`` known before computing, or None (not imagery, or unknown).

    Errors (an unreadable product, an invalid graph) make the bands unknown here:
    ``compute()`` reports them itself.
    """
    try:
        return static_bands(value)
    except Exception as exc:
        log.debug("no static bands: %s", exc)
        return None


def size_estimate(value: Any, pixels: int) -> dict:
    """The estimate for ``pixels`` pixels of ``value``.

    Returns
    -------
    dict
        ``pixels``; ``bands`` and ``band_names`` (None if unknown); ``bytes``
        (``pixels x bands x BYTES_PER_SAMPLE``, None if the bands are unknown);
        ``per_image`` (True for an ImageCollection: the bytes are those of one image).
    """
    names = known_bands(value)
    bands = len(names) if names is not None else None
    return {"pixels": int(pixels), "bands": bands, "band_names": names,
            "bytes": int(pixels) * bands * BYTES_PER_SAMPLE if bands is not None else None,
            "per_image": getattr(value, "kind", None) == "ImageCollection"}


def size_text(est: dict) -> str:
    """The size part of an estimate, in words: ``"about 4.0 MiB as float64 (2 bands)"``.

    With the bands unknown, the size of one band: ``"about 2.0 MiB per band as float64"``.
    """
    per_image = " per image" if est["per_image"] else ""
    if est["bands"] is None:
        return f"about {human_bytes(est['pixels'] * BYTES_PER_SAMPLE)} per band{per_image} as float64"
    return (f"about {human_bytes(est['bytes'])}{per_image} as float64 "
            f"({est['bands']} band{'s' if est['bands'] != 1 else ''})")


def size_short(est: dict) -> str:
    """The size of an estimate in a few words, for one-line summaries: ``"4.0 MiB"``, ``"1.0 MiB per band"``.

    The figure :func:`size_text` gives, without the float64 and band details.
    """
    per_image = " per image" if est["per_image"] else ""
    if est["bands"] is None:
        return f"{human_bytes(est['pixels'] * BYTES_PER_SAMPLE)} per band{per_image}"
    return f"{human_bytes(est['bytes'])}{per_image}"
