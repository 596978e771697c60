"""Evaluated imagery and the numpy kernels of the image ops.

An evaluated Image is an :class:`~wf_widgets.outputs.results.ImageResult` (a masked float64
array ``(bands, y, x)``, properties, bandinfo, geocontext) and an evaluated ImageCollection
an :class:`~wf_widgets.outputs.results.ImageCollectionResult` (``(images, bands, y, x)``), so
what the last op returns is already what ``compute()`` gives back.

``ImageCollection.from_id`` evaluates to a :class:`SceneCollection`: an
ImageCollectionResult whose scenes are read on first use. Reductions over ``"images"``
(mean, sum, count, min, max) and ``mosaic`` stream over its scenes one at a time (memory of
one image instead of the whole stack); ``pick_bands``/``rename_bands`` stay lazy (and read
only the picked bands); everything else reads the whole stack once and caches it.

Properties of a result that combines several images are the properties they share (same
key, equal value): a composite keeps ``product`` and drops ``date`` and ``id``.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Any, Iterator, Sequence

import numpy as np

from ..catalog.reads import ProductMeta
from ..errors import ValidationError
from ..outputs.results import ImageCollectionResult, ImageResult
from ..values import imagery_rules as rules
from .context import EvalContext
from .reading import CatalogReader, Scene, geocontext_dict, rasterio_env, read_scene, scene_bandinfo

Imagery = (ImageResult, ImageCollectionResult)

_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": np.ma.power,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
    "and": np.ma.logical_and, "or": np.ma.logical_or, "xor": np.ma.logical_xor,
}
_UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": np.ma.abs, "invert": np.ma.logical_not}
#: ``image_math`` names (:data:`rules.MATH_FUNCS`) -> the masked-array function.
MATH = {
    "log": np.ma.log, "log10": np.ma.log10, "log2": np.ma.log2, "sqrt": np.ma.sqrt, "exp": np.ma.exp,
    "sin": np.ma.sin, "cos": np.ma.cos, "tan": np.ma.tan, "arcsin": np.ma.arcsin, "arccos": np.ma.arccos,
    "arctan": np.ma.arctan,
}
#: ``reduce`` names (:data:`rules.REDUCTIONS`, but ``count``) -> the masked-array reduction.
REDUCERS = {"mean": np.ma.mean, "median": np.ma.median, "min": np.ma.min, "max": np.ma.max, "sum": np.ma.sum,
            "std": np.ma.std}
#: Reductions over ``"images"`` a SceneCollection computes one scene at a time.
STREAMED = ("mean", "sum", "count", "min", "max")


# -- construction helpers --------------------------------------------------------------------
def is_imagery(x: Any) -> bool:
    return isinstance(x, Imagery)


def is_collection(x: Any) -> bool:
    return isinstance(x, ImageCollectionResult)


def names_of(x: Any) -> list[str]:
    return list(x.bandinfo)


def materialized(x: Any) -> Any:
    """``x`` with a lazy SceneCollection replaced by its read stack."""
    return x.materialize() if isinstance(x, SceneCollection) else x


def items(x: Any) -> list:
    """The items ``wf.zip`` takes from an evaluated value: the Images of an ImageCollection, the
    one-band Images of an Image, the characters of a str, the items of a list or tuple."""
    if isinstance(x, ImageCollectionResult):
        x = materialized(x)
        return [ImageResult(x.ndarray[i], properties=dict(x.properties[i]), bandinfo=x.bandinfo,
                            geocontext=x.geocontext) for i in range(len(x))]
    if isinstance(x, ImageResult):
        return [ImageResult(x.ndarray[i:i + 1], properties=dict(x.properties), bandinfo={name: dict(info)},
                            geocontext=x.geocontext) for i, (name, info) in enumerate(x.bandinfo.items())]
    if isinstance(x, (list, tuple, str)):
        return list(x)
    raise ValidationError(f"zip needs Lists, Strs, Images or ImageCollections, got {type(x).__name__}",
                          field="zip", value=type(x).__name__)


def common_properties(dicts: Sequence[dict]) -> dict:
    """The items every dict has with an equal value (in the first dict's order)."""
    if not dicts:
        return {}
    first, rest = dicts[0], dicts[1:]
    return {k: v for k, v in first.items() if all(k in d and _equal(d[k], v) for d in rest)}


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def like(src: Any, data: np.ma.MaskedArray, bandinfo: Any = None, properties: Any = None) -> Any:
    """A result of ``src``'s kind (taken from ``data.ndim``) with ``src``'s metadata unless given."""
    bandinfo = OrderedDict((k, dict(v)) for k, v in src.bandinfo.items()) if bandinfo is None else bandinfo
    if properties is None:
        properties = [dict(p) for p in src.properties] if is_collection(src) else dict(src.properties)
    cls = ImageCollectionResult if data.ndim == 4 else ImageResult
    return cls(data, properties=properties, bandinfo=bandinfo, geocontext=src.geocontext)


def renamed(bandinfo: Any, old: Sequence[str], new: Sequence[str]) -> OrderedDict:
    """Band information of bands ``old`` under the names ``new``."""
    out = OrderedDict()
    for o, n in zip(old, new):
        info = dict(bandinfo.get(o, {}))
        if "name" in info:
            info["name"] = n
        out[n] = info
    return out


def _as_masked(data: np.ndarray, mask: np.ndarray | None = None) -> np.ma.MaskedArray:
    return np.ma.MaskedArray(data, mask=np.zeros(data.shape, bool) if mask is None else mask, copy=False)


# -- the lazy collection of from_id ---------------------------------------------------------
class SceneSource:
    """The scenes of one ``from_id`` in one evaluation, and how to read them.

    Each scene read reports one step (``ctx.step()``) the first time it is read.
    """

    def __init__(self, ctx: EvalContext, reader: CatalogReader, product: ProductMeta, scenes: list[Scene], resampler: str):
        self.ctx, self.reader, self.product, self.scenes, self.resampler = ctx, reader, product, scenes, resampler
        self.geoctx = ctx.geoctx
        self.geocontext = geocontext_dict(ctx.geoctx)
        self._counted: set[str] = set()

    def read(self, scene: Scene, keys: Sequence[str], out: np.ndarray, mask: np.ndarray) -> None:
        read_scene(scene, self.product, keys, self.geoctx, self.resampler, out, mask)
        if scene.id not in self._counted:
            self._counted.add(scene.id)
            self.ctx.step()


class SceneCollection(ImageCollectionResult):
    """An ImageCollection of catalog scenes, read on first use (see the module docstring).

    ``properties``, ``bandinfo``, ``geocontext`` and ``len()`` need no reads; ``ndarray``
    reads every scene (once) and returns the stack.
    """

    def __init__(self, source: SceneSource, keys: Sequence[str], names: Sequence[str] | None = None):
        self.source = source
        self.keys = list(keys)
        names = list(keys) if names is None else list(names)
        self.bandinfo = scene_bandinfo(source.product, self.keys, names)
        self.properties = [dict(s.properties) for s in source.scenes]
        self.geocontext = source.geocontext
        self._stack: ImageCollectionResult | None = None

    @property
    def ndarray(self) -> np.ma.MaskedArray:  # type: ignore[override]
        return self.materialize().ndarray

    def __len__(self) -> int:
        return len(self.source.scenes)

    @property
    def _shape(self) -> tuple[int, int, int]:
        return (len(self.keys), self.source.geoctx.height, self.source.geoctx.width)

    def materialize(self) -> ImageCollectionResult:
        """Read every scene into one stack (once) and return it as an ImageCollectionResult."""
        if self._stack is None:
            shape = (len(self),) + self._shape
            data, mask = np.empty(shape, np.float64), np.empty(shape, bool)
            with rasterio_env(self.source.reader.gdal_options):
                for i, scene in enumerate(self.source.scenes):
                    self.source.read(scene, self.keys, data[i], mask[i])
            self._stack = ImageCollectionResult(_as_masked(data, mask), properties=self.properties,
                                                bandinfo=self.bandinfo, geocontext=self.geocontext)
        return self._stack

    def _wf_result(self) -> ImageCollectionResult:
        """What ``evaluate`` should return when this collection is the graph's result: the read stack."""
        return self.materialize()

    def iter_arrays(self, reverse: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(data, mask)`` of each image, ``(bands, y, x)``; buffers are reused: use them before the next."""
        order = range(len(self) - 1, -1, -1) if reverse else range(len(self))
        if self._stack is not None:
            arr = self._stack.ndarray
            full = np.ma.getmaskarray(arr)
            for i in order:
                yield arr.data[i], full[i]
            return
        data, mask = np.empty(self._shape, np.float64), np.empty(self._shape, bool)
        with rasterio_env(self.source.reader.gdal_options):
            for i in order:
                self.source.read(self.source.scenes[i], self.keys, data, mask)
                yield data, mask

    def with_bands(self, keys: Sequence[str], names: Sequence[str]) -> "SceneCollection":
        """A lazy collection of other bands of the same scenes."""
        new = SceneCollection(self.source, keys, names)
        if self._stack is not None:
            idx = [self.keys.index(k) for k in keys]
            new._stack = like(self._stack, self._stack.ndarray[:, idx], bandinfo=new.bandinfo)
        return new

    def __repr__(self) -> str:
        return f"<SceneCollection {self.source.product.id}: {len(self)} scene(s), bands {', '.join(self.bandinfo)}>"


# -- element-wise ------------------------------------------------------------------------
def binary(op: str, a: Any, b: Any) -> Any:
    """``a <op> b`` where one or both are imagery (the other a number)."""
    a, b = materialized(a), materialized(b)
    fn = _BINARY[op]
    if not (is_imagery(a) and is_imagery(b)):
        src = a if is_imagery(a) else b
        left = a.ndarray if src is a else a
        right = b.ndarray if src is b else b
        return like(src, _masked(fn(left, right)))
    names = rules.combine_names(op, names_of(a), names_of(b))
    if is_collection(a) and is_collection(b) and len(a) != len(b):
        raise ValidationError(
            f"ImageCollections of different lengths ({len(a)} and {len(b)} images) can't be combined with {op!r}",
            field="other", value=(len(a), len(b)))
    data = _masked(fn(a.ndarray, b.ndarray))
    bandinfo = OrderedDict((n, dict(a.bandinfo.get(n) or b.bandinfo.get(n) or {})) for n in names)
    if is_collection(a) and is_collection(b):
        properties: Any = [common_properties([pa, pb]) for pa, pb in zip(a.properties, b.properties)]
    elif is_collection(a) or is_collection(b):
        properties = [dict(p) for p in (a if is_collection(a) else b).properties]
    else:
        properties = common_properties([a.properties, b.properties])
    return like(a if is_collection(a) or not is_collection(b) else b, data, bandinfo, properties)


def _masked(x: Any) -> np.ma.MaskedArray:
    return x if isinstance(x, np.ma.MaskedArray) else np.ma.asarray(x)


def unary(op: str, a: Any) -> Any:
    a = materialized(a)
    return like(a, _masked(_UNARY[op](a.ndarray)))


def math(src: Any, name: str) -> Any:
    """``np.ma.<name>`` of every pixel (domain errors become masked)."""
    fn = MATH.get(name) if isinstance(name, str) else None
    if fn is None:
        raise ValidationError.bad_value("image_math.name", name, rules.MATH_FUNCS)
    src = materialized(src)
    return like(src, _masked(fn(src.ndarray)))


def _band_values(values: Any, src: Any, default: float) -> Any:
    """A number, or a per-band list shaped to broadcast over ``src``'s band axis."""
    if values is None:
        return default
    if isinstance(values, (list, tuple)):
        rules.per_band(values, names_of(src), "values")
        arr = np.array([default if v is None else v for v in values], dtype=np.float64)
        return arr.reshape((-1, 1, 1))
    return values


def clip_values(src: Any, lo: Any = None, hi: Any = None) -> Any:
    src = materialized(src)
    rules.per_band(lo, names_of(src), "min")
    rules.per_band(hi, names_of(src), "max")
    arr = src.ndarray
    data = np.clip(arr.data, _band_values(lo, src, -np.inf), _band_values(hi, src, np.inf))
    return like(src, np.ma.MaskedArray(data, mask=np.ma.getmaskarray(arr).copy()))


def scale_values(src: Any, range_min: float, range_max: float, domain_min: float | None = None,
                 domain_max: float | None = None) -> Any:
    """Linear map of ``[domain_min, domain_max]`` (default: each band's min and max) to the range."""
    src = materialized(src)
    arr = src.ndarray
    axes = (0, 2, 3) if arr.ndim == 4 else (1, 2)
    shape = (1, -1, 1, 1) if arr.ndim == 4 else (-1, 1, 1)
    lo = np.ma.min(arr, axis=axes).filled(0).reshape(shape) if domain_min is None else float(domain_min)
    hi = np.ma.max(arr, axis=axes).filled(0).reshape(shape) if domain_max is None else float(domain_max)
    span = np.asarray(hi - lo, dtype=np.float64)
    factor = np.divide(float(range_max) - float(range_min), span, out=np.zeros_like(span), where=span != 0)
    data = (arr.data - lo) * factor + float(range_min)
    return like(src, np.ma.MaskedArray(data, mask=np.ma.getmaskarray(arr).copy()))


# -- bands ---------------------------------------------------------------------------------
def pick_bands(src: Any, names: Any) -> Any:
    requested = rules.split_band_names(names)
    available = names_of(src)
    new = rules.pick_names(available, requested)
    if isinstance(src, SceneCollection):
        return src.with_bands([src.keys[available.index(n)] for n in requested], new)
    idx = [available.index(n) for n in requested]
    arr = src.ndarray
    data = arr[:, idx] if arr.ndim == 4 else arr[idx]
    return like(src, data, renamed(src.bandinfo, requested, new))


def rename_bands(src: Any, names: list) -> Any:
    old = names_of(src)
    new = rules.rename_names(old, names)
    if isinstance(src, SceneCollection):
        return src.with_bands(src.keys, new)
    return like(src, src.ndarray, renamed(src.bandinfo, old, new))


def concat_bands(a: Any, b: Any) -> Any:
    a, b = materialized(a), materialized(b)
    if not is_collection(a) and is_collection(b):
        raise ValidationError("Image.concat_bands needs an Image; use the ImageCollection's concat_bands instead",
                              field="other", value="ImageCollection")
    names = rules.concat_names(names_of(a), names_of(b))
    right = b.ndarray
    if is_collection(a):
        if is_collection(b) and len(b) != len(a):
            raise ValidationError(f"concat_bands needs ImageCollections of the same length ({len(a)} and {len(b)})",
                                  field="other", value=len(b))
        if not is_collection(b):
            right = np.ma.MaskedArray(np.broadcast_to(right.data, (len(a),) + right.shape),
                                      mask=np.broadcast_to(np.ma.getmaskarray(right), (len(a),) + right.shape))
    data = np.ma.concatenate([a.ndarray, right], axis=a.ndarray.ndim - 3)
    bandinfo = OrderedDict(list(a.bandinfo.items()) + list(renamed(b.bandinfo, names_of(b), names[len(a.bandinfo):]).items()))
    return like(a, data, bandinfo)


# -- masks and properties -------------------------------------------------------------------
def mask(src: Any, m: Any, replace: bool = False) -> Any:
    """Mask ``src`` where ``m`` is true (non-zero); see ``Image.mask``."""
    src, m = materialized(src), materialized(m)
    if not is_imagery(m):
        raise ValidationError(f"mask needs an Image or ImageCollection, got {type(m).__name__}", field="mask",
                              value=m)
    if not is_collection(src) and is_collection(m):
        raise ValidationError("An Image can't be masked with an ImageCollection", field="mask", value="ImageCollection")
    rules.check_mask_bands(names_of(src), names_of(m))
    if is_collection(src) and is_collection(m) and len(m) != len(src):
        raise ValidationError(f"The mask has {len(m)} images but the ImageCollection {len(src)}", field="mask",
                              value=len(m))
    arr, marr = src.ndarray, m.ndarray
    flags = np.asarray(marr.data != 0)
    mmask = np.ma.getmaskarray(marr)
    if replace:
        new = flags | mmask
    else:
        new = np.ma.getmaskarray(arr) | (flags & ~mmask)
    new = np.array(np.broadcast_to(new, arr.shape))
    return like(src, np.ma.MaskedArray(arr.data, mask=new))


def getmask(src: Any) -> Any:
    """One boolean band ``"mask"``: True where any band of ``src`` is masked; never masked itself."""
    src = materialized(src)
    arr = src.ndarray
    axis = arr.ndim - 3
    data = np.ma.getmaskarray(arr).any(axis=axis, keepdims=True)
    return like(src, _as_masked(data), OrderedDict(mask={}))


def with_properties(src: Any, keys: list, *values: Any) -> Any:
    extra = dict(zip(keys, values))
    if isinstance(src, SceneCollection):
        new = src.with_bands(src.keys, list(src.bandinfo))
        new.properties = [{**p, **extra} for p in src.properties]
        return new
    if is_collection(src):
        return like(src, src.ndarray, properties=[{**p, **extra} for p in src.properties])
    return like(src, src.ndarray, properties={**src.properties, **extra})


def properties(src: Any) -> Any:
    if is_collection(src):
        return [dict(p) for p in src.properties]
    return dict(src.properties)


# -- reductions ------------------------------------------------------------------------------
def _scalar(x: Any) -> float | None:
    return None if x is np.ma.masked or np.ma.is_masked(x) else float(x)


def _reduce(arr: np.ma.MaskedArray, name: str, axes: tuple[int, ...]) -> Any:
    if name == "count":
        counts = np.ma.count(arr, axis=axes)
        return _as_masked(np.asarray(counts, dtype=np.float64)) if np.ndim(counts) else float(counts)
    reducer = REDUCERS.get(name) if isinstance(name, str) else None
    if reducer is None:
        raise ValidationError.bad_value("reduce.name", name, rules.REDUCTIONS)
    return reducer(arr, axis=axes)


def reduce(src: Any, name: str, axis: Any) -> Any:
    """The reduction ``name`` over ``axis``; result types are those of :data:`rules.REDUCE_RESULT`."""
    rules.check_reduction(name)
    kind = rules.COLLECTION if is_collection(src) else rules.IMAGE
    axis = rules.canonical_axis(kind, axis)
    if axis == ("images",) and isinstance(src, SceneCollection) and src._stack is None and name in STREAMED:
        return like(src, _stream_images(src, name), properties=common_properties(src.properties))
    src = materialized(src)
    arr = src.ndarray
    names = names_of(src)
    one_band = OrderedDict([(name, {})])
    if kind == rules.IMAGE:
        if axis is None or axis == ("bands", "pixels"):
            return _scalar(_reduce(arr, name, (0, 1, 2)))
        if axis == ("pixels",):
            return {n: _scalar(v) for n, v in zip(names, _reduce(arr, name, (1, 2)))}
        return like(src, _masked(_reduce(arr, name, (0,)))[np.newaxis], one_band)  # "bands"
    if axis is None or axis == ("images", "bands", "pixels"):
        return _scalar(_reduce(arr, name, (0, 1, 2, 3)))
    if len(src) == 0 and "images" in axis:
        return _empty_reduction(src, name, axis)
    if axis == ("images",):
        return ImageResult(_masked(_reduce(arr, name, (0,))), properties=common_properties(src.properties),
                           bandinfo=src.bandinfo, geocontext=src.geocontext)
    if axis == ("bands",):
        return like(src, _masked(_reduce(arr, name, (1,)))[:, np.newaxis], one_band)
    if axis == ("pixels",):
        values = _reduce(arr, name, (2, 3))
        return [{n: _scalar(v) for n, v in zip(names, row)} for row in values]
    if axis == ("images", "pixels"):
        return {n: _scalar(v) for n, v in zip(names, _reduce(arr, name, (0, 2, 3)))}
    if axis == ("bands", "pixels"):
        return [_scalar(v) for v in _reduce(arr, name, (1, 2, 3))]
    # ("images", "bands")
    return ImageResult(_masked(_reduce(arr, name, (0, 1)))[np.newaxis], properties=common_properties(src.properties),
                       bandinfo=one_band, geocontext=src.geocontext)


def _empty_reduction(src: Any, name: str, axis: tuple[str, ...]) -> Any:
    """A reduction over the images of an empty collection: fully masked / None."""
    _, b, h, w = src.ndarray.shape
    if axis == ("images", "pixels"):
        return {n: (0.0 if name == "count" else None) for n in names_of(src)}
    bands = 1 if "bands" in axis else b
    info = OrderedDict([(name, {})]) if "bands" in axis else src.bandinfo
    fill = name == "count"
    data = np.ma.MaskedArray(np.zeros((bands, h, w)), mask=np.full((bands, h, w), not fill))
    return ImageResult(data, properties={}, bandinfo=info, geocontext=src.geocontext)


def _stream_images(src: SceneCollection, name: str) -> np.ma.MaskedArray:
    """Reduce over the images one scene at a time (mean, sum, count, min, max)."""
    shape = src._shape
    init = {"min": np.inf, "max": -np.inf}.get(name, 0.0)
    acc = np.full(shape, init, dtype=np.float64)
    count = np.zeros(shape, dtype=np.int32)
    valid = np.empty(shape, dtype=bool)
    step = {"mean": np.add, "sum": np.add, "min": np.minimum, "max": np.maximum}.get(name)
    for data, mask in src.iter_arrays():
        np.logical_not(mask, out=valid)
        count += valid
        if step is not None:
            step(acc, data, out=acc, where=valid)
    empty = count == 0
    if name == "count":
        return _as_masked(count.astype(np.float64))
    if name == "mean":
        np.divide(acc, count, out=acc, where=~empty)
    return np.ma.MaskedArray(acc, mask=empty)


def mosaic(src: Any, reverse: bool = False) -> ImageResult:
    """One Image: each pixel (per band) from the last image where it is unmasked (first with ``reverse``)."""
    if not is_collection(src):
        raise ValidationError("mosaic needs an ImageCollection", field="mosaic", value=type(src).__name__)
    if isinstance(src, SceneCollection):
        arrays = src.iter_arrays(reverse=not reverse)
        shape = src._shape
    else:
        arr = src.ndarray
        full = np.ma.getmaskarray(arr)
        order = range(len(src)) if reverse else range(len(src) - 1, -1, -1)
        arrays = ((arr.data[i], full[i]) for i in order)
        shape = arr.shape[1:]
    out = np.zeros(shape, dtype=np.float64)
    filled = np.zeros(shape, dtype=bool)
    take = np.empty(shape, dtype=bool)
    for data, mask in arrays:
        np.logical_or(mask, filled, out=take)
        np.logical_not(take, out=take)
        np.copyto(out, data, where=take)
        filled |= take
    return ImageResult(np.ma.MaskedArray(out, mask=~filled), properties=common_properties(src.properties),
                       bandinfo=src.bandinfo, geocontext=src.geocontext)
