"""The transformations of an Image uploaded to the catalog, in the spec's order, and the data-loss guard.

:func:`transform` applies them to a computed ``(bands, y, x)`` masked array:

1. acquired (:func:`acquired`: the catalog Image's own, else ``properties['date']``, else now);
2. band reorder (:class:`~wf_widgets.delivery.catalog_target.BandPlan`: by name, or by
   position when the names differ);
3. rescale (with ``rescale=True``): physical_range -> data_range, for the bands that have a
   physical_range (:func:`scaling`);
4. data type: always into the product's data type, behind the data-loss guard (below);
   integer types round to the nearest whole number;
5. nodata: masked pixels of a band with nodata get that value; masked pixels of a band
   without nodata hold 0 (its validity lives in the alpha band);
6. alpha: when generated, 1 where the pixel is valid in every band and 0 where any band is
   masked (the Image's mask as one mask per pixel).

Steps 2-5 run band by band over blocks of rows small enough to stay in the CPU cache, so
each pixel is read from memory once; the guard's statistics are gathered on the way
(:class:`BandStats`) and checked before the array is returned, so nothing is written when
it refuses.

The data-loss guard (on the unmasked values of each band; a failure is a :class:`DataLoss`,
so the job fails with code DESTINATION):

* with ``change_dtype=False`` and an integer product, the values must already be whole
  numbers (else: pass ``change_dtype=True``);
* NaN or infinite values can't be stored in an integer type;
* no value may lie outside the range of the product's type (the conversion would clip it);
* the conversion may not collapse the values: the mean absolute change must stay within
  :data:`LOSS_TOLERANCE` (1 %) of the values' range (max - min of the unmasked values, or
  their magnitude when they are all equal). Floats 0.0-1.0 into UInt16 change by 0.25 on
  average, 25 % of their range: refused. Float64 into a Float32 product passes unless the
  values differ only beyond float32's precision.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from typing import Any, Mapping, Sequence

import numpy as np

from ..catalog._common import to_datetime
from ..catalog.bands import range_scaling
from ..catalog.datatypes import DataType
from ..errors import JobDestination, ValidationError
from .catalog_target import BandPlan, Target

#: Largest mean absolute change of a conversion, as a fraction of the values' range.
LOSS_TOLERANCE = 0.01
#: Pixels per block of rows (512 KiB of float64).
BLOCK_PIXELS = 1 << 16
_FIX = ("Scale the values into the product's data_range first: rescale=True (for bands with a physical_range), "
        "or image.scale_values(...) or arithmetic")


class DataLoss(JobDestination):
    """Storing the computed values in the product's data type would lose data; nothing was written."""


def acquired(image: Mapping[str, Any], properties: Mapping[str, Any], now: _dt.datetime) -> _dt.datetime:
    """The ``acquired`` of the uploaded image.

    Parameters
    ----------
    image : mapping
        The normalised catalog Image (its ``acquired``, if set, wins).
    properties : mapping
        The computed Image's properties (``"date"``: datetime or ISO 8601 text).
    now : datetime
        Used when neither is set (``settings.now()``).
    """
    for value in (image.get("acquired"), properties.get("date")):
        if value is not None:
            try:
                return to_datetime(value, "acquired")
            except ValidationError:
                continue  # a property that is not a date: fall through
    return now


def scaling(band: Mapping[str, Any]) -> tuple[float, float] | None:
    """``(scale, offset)`` mapping the band's physical_range onto its data_range, or None without one.

    The inverse of the scaling applied when imagery is read.
    """
    return range_scaling(dict(band), to_data=True)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


@dataclasses.dataclass
class BandStats:
    """What the data-loss guard needs to know of one band's unmasked values.

    Attributes
    ----------
    count : int
        Unmasked finite values seen.
    low, high : float
        Their smallest and largest value.
    nonfinite : bool
        NaN or infinite values were seen.
    change : float
        Sum of the absolute changes the conversion made to them.
    """

    count: int = 0
    low: float = math.inf
    high: float = -math.inf
    nonfinite: bool = False
    change: float = 0.0

    def observe(self, values: np.ndarray) -> bool:
        """Add ``values`` (unmasked); returns False if some are not finite (then they are not counted)."""
        if values.size == 0:
            return True
        low, high = float(values.min()), float(values.max())
        finite = math.isfinite(low) and math.isfinite(high)
        if not finite:
            self.nonfinite = True
            values = values[np.isfinite(values)]
            if values.size == 0:
                return False
            low, high = float(values.min()), float(values.max())
        self.count += values.size
        self.low, self.high = min(self.low, low), max(self.high, high)
        return finite

    def check(self, dtype: DataType, change_dtype: bool, band: str) -> None:
        """Raise :class:`DataLoss` if storing the observed values as ``dtype`` loses data."""
        integer = dtype.dtype.kind in "ui"
        span = f"band {band} has values from {_fmt(self.low)} to {_fmt(self.high)}"
        if integer and self.nonfinite:
            raise DataLoss(f"Can't store the Image in the catalog: band {band} has NaN or infinite values, which the "
                           f"product's data type {dtype.value} can't hold; mask them first (e.g. image.mask(...)). "
                           "Nothing was uploaded.")
        if self.count == 0:
            return
        lo, hi = dtype.range
        if integer and not change_dtype and self.change > 0:
            raise DataLoss(
                f"Can't store the Image in the catalog: {span}, not whole numbers, so they don't fit the product's "
                f"data type {dtype.value} as they are, and change_dtype is False. Pass change_dtype=True to convert "
                f"them (usually with rescale=True to map physical_range to data_range first). Nothing was uploaded.")
        low, high = (round(self.low), round(self.high)) if integer else (self.low, self.high)
        if low < lo or high > hi:
            raise DataLoss(
                f"Can't store the Image in the catalog: {span}, outside the range of the product's data type "
                f"{dtype.value} ({_fmt(lo)} to {_fmt(hi)}): converting would clip them. {_FIX}. Nothing was uploaded.")
        spread = self.high - self.low if self.high > self.low else abs(self.low)
        mean = self.change / self.count
        if mean > LOSS_TOLERANCE * spread:
            raise DataLoss(
                f"Can't store the Image in the catalog: {span}, and converting them to the product's data type "
                f"{dtype.value} would change them by {_fmt(mean)} on average, more than {LOSS_TOLERANCE:.0%} of "
                f"their range ({_fmt(spread)}): the values would collapse. {_FIX} (e.g. to 0-10000 for UInt16). "
                "Nothing was uploaded.")


def _in_range(stats: BandStats, dtype: DataType) -> bool:
    lo, hi = dtype.range
    if dtype.dtype.kind in "ui":
        return stats.count == 0 or (lo <= round(stats.low) and round(stats.high) <= hi)
    return stats.count == 0 or (lo <= stats.low and stats.high <= hi)


def _convert_block(y: np.ndarray, dtype: DataType, stats: BandStats, finite: bool) -> np.ndarray | None:
    """``y`` (float64, masked pixels 0) as values of ``dtype``, or None if they can't be stored as such.

    Adds the absolute changes of the conversion to ``stats`` (also for integer blocks out
    of range, so that fractions are reported before the range).
    """
    target = dtype.dtype
    if target == np.float64:
        return y
    if target.kind in "ui":
        if not finite:
            return None
        converted = np.rint(y)
    elif not _in_range(stats, dtype):
        return None  # float32 would overflow
    else:
        converted = y.astype(target)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, zeroed below
        diff = np.subtract(converted, y, dtype=np.float64)
    np.abs(diff, out=diff)
    if not finite:
        diff[~np.isfinite(diff)] = 0.0  # NaN and infinities of a float type stay as they are
    stats.change += float(diff.sum())
    return converted if _in_range(stats, dtype) else None


def convert_band(values: np.ndarray, mask: np.ndarray | None, out: np.ndarray, dtype: DataType,
                 scale: tuple[float, float] | None, nodata: float | None) -> BandStats:
    """Steps 3-5 for one band, block by block, into ``out``; returns the guard's statistics.

    Parameters
    ----------
    values : ndarray
        The band's computed values ``(y, x)`` (read only).
    mask : ndarray of bool or None
        True where masked (None: nothing masked).
    out : ndarray
        ``(y, x)`` in ``dtype``; blocks whose values can't be converted (not finite for an
        integer type, or out of range) are left unwritten: the guard refuses them anyway.
    dtype : DataType
    scale : (float, float) or None
        ``(scale, offset)`` of the rescale step.
    nodata : number or None
        Stored at masked pixels (0 without one).
    """
    stats = BandStats()
    rows = max(1, BLOCK_PIXELS // max(1, values.shape[1]))
    for r0 in range(0, values.shape[0], rows):
        y = np.array(values[r0:r0 + rows], dtype=np.float64)  # a copy of the block
        if scale is not None:
            y *= scale[0]
            y += scale[1]
        m = mask[r0:r0 + rows] if mask is not None else None
        if m is not None and m.any():
            finite = stats.observe(y[~m])
            y[m] = 0.0  # masked pixels may hold anything (NaN too)
        else:
            m = None
            finite = stats.observe(y.ravel())
        converted = _convert_block(y, dtype, stats, finite)
        if converted is None:
            continue  # can't be stored: the guard refuses the band, so the block stays unwritten
        out[r0:r0 + rows] = converted
        if m is not None and nodata is not None:
            out[r0:r0 + rows][m] = nodata
    return stats


def guard(values: np.ndarray, dtype: DataType, change_dtype: bool, band: str) -> None:
    """Raise :class:`DataLoss` if storing ``values`` (the unmasked values of one band) as ``dtype`` loses data."""
    values = np.asarray(values, dtype=np.float64).reshape(1, -1)
    stats = convert_band(values, None, np.empty(values.shape, dtype.dtype), dtype, None, None)
    stats.check(dtype, change_dtype, band)


def band_label(target: Target, plan: BandPlan, slot: int, names: Sequence[str]) -> str:
    """``'vv'``, or ``'x' (product band 'vv')`` when matched by position under another name."""
    product = target.bands[slot]["name"]
    source = names[plan.sources[slot]]
    return repr(product) if source == product else f"{source!r} (product band {product!r})"


def transform(array: np.ma.MaskedArray, names: Sequence[str], target: Target, plan: BandPlan, *,
              rescale_values: bool, change_dtype: bool) -> np.ma.MaskedArray:
    """Steps 2-6 of the module docstring on a computed ``(bands, y, x)`` array.

    Returns
    -------
    numpy.ma.MaskedArray
        ``(product bands, y, x)`` in the product's data type, each band masked where the
        Image's band was (a generated alpha band is never masked).

    Raises
    ------
    DataLoss
        From the data-loss guard, before anything is returned.
    """
    values = np.ma.getdata(array)
    masks = np.ma.getmask(array)
    dtype = target.data_type
    out = np.empty((len(plan.sources),) + values.shape[1:], dtype=dtype.dtype)
    mask = np.zeros(out.shape, dtype=bool)
    alpha_slot = None
    for slot, source in enumerate(plan.sources):
        if source is None:
            alpha_slot = slot
            continue
        band_mask = masks[source] if masks is not np.ma.nomask else None
        if band_mask is not None:
            mask[slot] = band_mask
        band = target.bands[slot]
        stats = convert_band(values[source], band_mask, out[slot], dtype,
                             scaling(band) if rescale_values else None, band.get("nodata"))
        stats.check(dtype, change_dtype, band_label(target, plan, slot, names))
    if alpha_slot is not None:
        data_slots = [slot for slot, source in enumerate(plan.sources) if source is not None]
        out[alpha_slot] = ~mask[data_slots].any(axis=0)
    return np.ma.MaskedArray(out, mask=mask)
