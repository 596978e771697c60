"""The static rules of imagery graphs: which nodes are Images or ImageCollections, and their bands.

Graph typing, so it lives with the values. Every rule about band names lives here, once,
and is used three times:

* while a graph is built (:mod:`wf_widgets.values.image` types each new node from its
  operands: its kind always, its band names when the op's own check needs them, so a bad
  band name fails at the line that wrote it);
* at PREPARING (:mod:`wf_widgets.engine.imagery` walks a graph rebuilt from JSON before
  any scene is read);
* while evaluating (the numpy kernels in :mod:`wf_widgets.engine.raster` name the bands
  of their results with the same functions).

The band names of ``from_id`` come from the catalog, through a :class:`Lookup`; a rule
called without one (``lookup=None``) leaves them unknown (None) and so never opens the
catalog: building a graph does that only for an op whose check needs band names
(:func:`checks_bands`), or when they are asked for.

Band-name rules (decisions, documented for users in :mod:`wf_widgets.values.image`):

* ``pick_bands`` keeps the given order; a repeated name gets ``_1``, ``_2``, ... (as the
  original client did: ``"vv vh vv"`` gives ``vv vh vv_1``).
* ``concat_bands`` appends; a name already present gets ``_1`` (``_2``, ...).
* Image-Image operators need equal band counts, or one side with 1 band (broadcast).
  Equal names are kept; a 1-band side takes the other side's names; otherwise each band is
  named ``"<left>_<op>_<right>"``.
* Reductions over ``"bands"`` give one band named after the reduction (``"mean"``).
* ``getmask`` gives one band named ``"mask"``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from ..errors import ValidationError
from .base import ARITHMETIC, COMPARISON, LOGICAL
from .graph import Node

IMAGE, COLLECTION = "Image", "ImageCollection"

#: Element-wise operators (the generic ops of :mod:`wf_widgets.engine.ops`).
BINARY_OPS = ARITHMETIC | COMPARISON | LOGICAL
UNARY_OPS = frozenset({"neg", "pos", "abs", "invert"})
#: Element-wise functions of ``image_math``.
MATH_FUNCS = ("log", "log10", "log2", "sqrt", "exp", "sin", "cos", "tan", "arcsin", "arccos", "arctan")
REDUCTIONS = ("mean", "median", "min", "max", "sum", "std", "count")
#: Resampler names of ``from_id`` (as in the original client) -> rasterio Resampling names.
RESAMPLERS = {
    "near": "nearest", "bilinear": "bilinear", "cubic": "cubic", "cubicspline": "cubic_spline",
    "lanczos": "lanczos", "average": "average", "mode": "mode", "max": "max", "min": "min",
    "med": "med", "q1": "q1", "q3": "q3",
}
AXES = ("images", "bands", "pixels")

#: Result kind of a reduction, by input kind and canonical axis (a tuple in AXES order, or None).
REDUCE_RESULT: dict[str, dict[tuple[str, ...] | None, str]] = {
    IMAGE: {None: "Float", ("pixels",): "Dict", ("bands",): IMAGE, ("bands", "pixels"): "Float"},
    COLLECTION: {
        None: "Float", ("images",): IMAGE, ("bands",): COLLECTION, ("pixels",): "ListOfDict",
        ("images", "pixels"): "Dict", ("bands", "pixels"): "ListOfFloat", ("images", "bands"): IMAGE,
        ("images", "bands", "pixels"): "Float",
    },
}


@dataclasses.dataclass(frozen=True)
class Imagery:
    """What is statically known about an Image or ImageCollection node.

    Attributes
    ----------
    kind : str
        ``"Image"`` or ``"ImageCollection"``.
    bands : tuple of str or None
        Band names in order, or None when they can't be known before evaluation.
    """

    kind: str
    bands: tuple[str, ...] | None


# -- band-name rules (shared with the kernels) ---------------------------------------------
def unique_names(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """``names`` with repeats (and names in ``taken``) suffixed ``_1``, ``_2``, ..."""
    seen = set(taken)
    out = []
    for name in names:
        new, i = name, 0
        while new in seen:
            i += 1
            new = f"{name}_{i}"
        seen.add(new)
        out.append(new)
    return out


def split_band_names(names: Any) -> list[str]:
    """Band names from a list/tuple of str or one space-separated str; at least one."""
    if isinstance(names, str):
        names = names.split()
    if isinstance(names, (list, tuple)) and names and all(isinstance(n, str) and n for n in names):
        return list(names)
    raise ValidationError(
        f"Band names must be a non-empty list of str or a space-separated str, got {names!r}",
        field="bands", value=names,
    )


def pick_names(available: Sequence[str], requested: Sequence[str]) -> list[str]:
    """Names of ``pick_bands(requested)`` on bands ``available``; unknown names are an error."""
    unknown = [n for n in requested if n not in available]
    if unknown:
        raise ValidationError(
            f"Unknown band name(s) {', '.join(map(repr, unknown))}; allowed band names: "
            f"{', '.join(map(repr, available))}",
            field="bands", value=unknown[0] if len(unknown) == 1 else unknown, allowed=available,
        )
    return unique_names(requested)


def rename_names(available: Sequence[str], new: Sequence[str]) -> list[str]:
    """Names after ``rename_bands(*new)``: one new name per band, all distinct."""
    if len(new) != len(available):
        raise ValidationError(
            f"rename_bands got {len(new)} name(s) for {len(available)} band(s) ({', '.join(available)})",
            field="bands", value=list(new),
        )
    if len(set(new)) != len(new):
        raise ValidationError(f"rename_bands names must be distinct, got {list(new)!r}", field="bands",
                              value=list(new))
    return list(new)


def concat_names(left: Sequence[str], right: Sequence[str]) -> list[str]:
    """Names after ``left.concat_bands(right)``."""
    return list(left) + unique_names(right, taken=left)


def combine_names(op: str, left: Sequence[str], right: Sequence[str]) -> list[str]:
    """Band names of ``left <op> right`` for two images; a band-count mismatch is an error."""
    if list(left) == list(right):
        return list(left)
    if len(right) == 1 and len(left) != 1:
        return list(left)
    if len(left) == 1 and len(right) != 1:
        return list(right)
    if len(left) != len(right):
        raise ValidationError(
            f"Band count mismatch for {op!r}: {len(left)} band(s) ({', '.join(left)}) and {len(right)} "
            f"band(s) ({', '.join(right)}); use the same number of bands, or one side with 1 band "
            "(pick_bands)",
            field="bands", value=(len(left), len(right)),
        )
    return [f"{a}_{op}_{b}" for a, b in zip(left, right)]


def check_mask_bands(bands: Sequence[str], mask_bands: Sequence[str]) -> None:
    """A mask needs 1 band, or as many bands as the image it masks."""
    if len(mask_bands) not in (1, len(bands)):
        raise ValidationError(
            f"A mask needs 1 band or {len(bands)} (as many as the image), got {len(mask_bands)} "
            f"({', '.join(mask_bands)})",
            field="mask", value=len(mask_bands),
        )


def per_band(values: Any, bands: Sequence[str], field: str) -> None:
    """A per-band list (of ``clip_values``) needs one value per band."""
    if isinstance(values, (list, tuple)) and len(values) != len(bands):
        raise ValidationError(
            f"{field} has {len(values)} value(s) but the image has {len(bands)} band(s) ({', '.join(bands)})",
            field=field, value=list(values),
        )


def canonical_axis(kind: str, axis: Any) -> tuple[str, ...] | None:
    """``axis`` of a reduction as a tuple in ``("images", "bands", "pixels")`` order, or None.

    Raises
    ------
    ValidationError
        For an axis the ``kind`` doesn't have (Images have no ``"images"`` axis).
    """
    names = (axis,) if isinstance(axis, str) else tuple(axis) if isinstance(axis, (list, tuple)) else None
    allowed = list(REDUCE_RESULT[kind])
    if axis is None:
        return None
    if names is not None and all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        canon = tuple(a for a in AXES if a in names)
        if len(canon) == len(names) and canon in REDUCE_RESULT[kind]:
            return canon
    shown = ["None"] + [repr(a[0]) if len(a) == 1 else repr(a) for a in allowed if a is not None]
    raise ValidationError(f"Invalid axis {axis!r} for an {kind} reduction; allowed: {', '.join(shown)}",
                          field="axis", value=axis, allowed=allowed)


def check_reduction(name: Any) -> str:
    if name not in REDUCTIONS:
        raise ValidationError.bad_value("reduction", name, REDUCTIONS)
    return name


def check_resampler(name: Any) -> str:
    """A ``from_id`` resampler name (``"near"``, ``"bilinear"``, ...)."""
    if name not in RESAMPLERS:
        raise ValidationError.bad_value("resampler", name, list(RESAMPLERS))
    return name


def check_date_range(start: str | None, end: str | None) -> None:
    """An empty range (``start >= end``) is an error. Both are ISO strings or None."""
    if start is not None and end is not None:
        if _dt.datetime.fromisoformat(start) >= _dt.datetime.fromisoformat(end):
            raise ValidationError(
                f"Empty date range: start_datetime {start} is not before end_datetime {end}",
                field="end_datetime", value=end,
            )


def check_limit(limit: Any) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValidationError(f"limit must be None or an integer >= 0, got {limit!r}", field="limit", value=limit)
    return limit


# -- rules -------------------------------------------------------------------------------
class Lookup(Protocol):
    """Catalog facts the rules need, read as one user (with the user's read checks).

    The catalog store (:meth:`wf_widgets.catalog.store.CatalogStore.product_bands`, the
    current backend's while a graph is built) and the engine's
    :class:`~wf_widgets.engine.reading.CatalogReader` implement it.
    """

    def product_bands(self, product_id: str) -> list[str]:
        """Names of the readable (non-alpha) bands; raises NotFound or PermissionDenied."""
        ...

    def image_product(self, image_id: str) -> str:
        """The product id of an image; raises NotFound or PermissionDenied."""
        ...


Rule = Callable[..., "Imagery | None"]
RULES: dict[str, Rule] = {}


def rule(*ops: str) -> Callable[[Rule], Rule]:
    """Register the decorated function as the static rule of ``ops``.

    A rule is called as ``fn(lookup, op, *args, **kwargs)`` where every argument that is a
    graph node has been replaced by its :class:`Imagery` (or None for other nodes), and
    ``lookup`` is a :class:`Lookup` or None (then band names from the catalog are unknown).
    """

    def register(fn: Rule) -> Rule:
        for name in ops:
            RULES[name] = fn
        return fn

    return register


def _same(src: Any, bands: Sequence[str] | None = None) -> Imagery | None:
    if not isinstance(src, Imagery):
        return None
    return Imagery(src.kind, tuple(bands) if bands is not None else src.bands)


@rule("ic_from_id")
def _ic_from_id(lookup: Lookup | None, op: str, product_id: str, start: str | None = None, end: str | None = None,
                limit: int | None = None, resampler: str = "near") -> Imagery:
    check_date_range(start, end)
    check_limit(limit)
    check_resampler(resampler)
    return Imagery(COLLECTION, tuple(lookup.product_bands(product_id)) if lookup is not None else None)


@rule("image_from_id")
def _image_from_id(lookup: Lookup | None, op: str, image_id: str, resampler: str = "near") -> Imagery:
    check_resampler(resampler)
    if lookup is None:
        return Imagery(IMAGE, None)
    return Imagery(IMAGE, tuple(lookup.product_bands(lookup.image_product(image_id))))


@rule("pick_bands")
def _pick(lookup: Lookup | None, op: str, src: Any, names: list) -> Imagery | None:
    names = split_band_names(names)
    if isinstance(src, Imagery) and src.bands is not None:
        return _same(src, pick_names(src.bands, names))
    return _same(src, unique_names(names))


@rule("rename_bands")
def _rename(lookup: Lookup | None, op: str, src: Any, names: list) -> Imagery | None:
    if isinstance(src, Imagery) and src.bands is not None:
        return _same(src, rename_names(src.bands, names))
    return _same(src, rename_names(names, names))


@rule("concat_bands")
def _concat(lookup: Lookup | None, op: str, left: Any, right: Any) -> Imagery | None:
    if not isinstance(left, Imagery) or not isinstance(right, Imagery):
        return None
    if left.kind == IMAGE and right.kind == COLLECTION:
        raise ValidationError("Image.concat_bands needs an Image; use the ImageCollection's concat_bands instead",
                              field="other", value=COLLECTION)
    bands = None if left.bands is None or right.bands is None else concat_names(left.bands, right.bands)
    return Imagery(left.kind, tuple(bands) if bands is not None else None)


def _operator(lookup: Lookup | None, op: str, *args: Any) -> Imagery | None:
    imagery = [a for a in args if isinstance(a, Imagery)]
    if not imagery:
        return None
    kind = COLLECTION if any(a.kind == COLLECTION for a in imagery) else IMAGE
    if len(imagery) == 1:
        return Imagery(kind, imagery[0].bands)
    left, right = imagery
    if left.bands is None or right.bands is None:
        return Imagery(kind, None)
    return Imagery(kind, tuple(combine_names(op, left.bands, right.bands)))


for _op in BINARY_OPS | UNARY_OPS:
    RULES[_op] = _operator


@rule("clip_values")
def _clip(lookup: Lookup | None, op: str, src: Any, lo: Any = None, hi: Any = None) -> Imagery | None:
    if isinstance(src, Imagery) and src.bands is not None:
        per_band(lo, src.bands, "min")
        per_band(hi, src.bands, "max")
    return _same(src)


@rule("image_math", "scale_values", "with_properties")
def _elementwise(lookup: Lookup | None, op: str, src: Any, *rest: Any, **named: Any) -> Imagery | None:
    return _same(src)


@rule("mask")
def _mask(lookup: Lookup | None, op: str, src: Any, mask: Any, replace: bool = False) -> Imagery | None:
    if isinstance(src, Imagery) and isinstance(mask, Imagery) and src.bands is not None and mask.bands is not None:
        check_mask_bands(src.bands, mask.bands)
    return _same(src)


@rule("getmask")
def _getmask(lookup: Lookup | None, op: str, src: Any) -> Imagery | None:
    return _same(src, ("mask",))


@rule("reduce")
def _reduce(lookup: Lookup | None, op: str, src: Any, name: str, axis: Any) -> Imagery | None:
    if not isinstance(src, Imagery):
        return None
    check_reduction(name)
    axis = canonical_axis(src.kind, axis)
    result = REDUCE_RESULT[src.kind][axis]
    if result not in (IMAGE, COLLECTION):
        return None
    return Imagery(result, (name,) if axis is not None and "bands" in axis else src.bands)


@rule("mosaic")
def _mosaic(lookup: Lookup | None, op: str, src: Any, reverse: bool = False) -> Imagery | None:
    return Imagery(IMAGE, src.bands) if isinstance(src, Imagery) else None


def checks_bands(op: str, args: Sequence[Any]) -> bool:
    """Whether the rule of ``op(*args)`` checks band names, so its operands' bands must be known.

    ``args`` as :func:`apply` takes them (an :class:`Imagery` for each imagery operand).
    True for ``pick_bands`` and ``rename_bands`` (unknown names, name counts), ``mask`` and
    operators between two imagery values (band counts), ``clip_values`` with a per-band
    list; every other op's checks look at literals and kinds only.
    """
    if op in ("pick_bands", "rename_bands"):
        return True
    if op == "clip_values":
        return any(isinstance(a, (list, tuple)) for a in args[1:])
    if op == "mask" or op in BINARY_OPS:
        return sum(isinstance(a, Imagery) for a in args) >= 2
    return False


def apply(lookup: Lookup | None, op: str, args: Sequence[Any], kwargs: Mapping[str, Any] | None = None,
          ) -> Imagery | None:
    """The :class:`Imagery` of a node ``op(*args, **kwargs)`` whose node arguments are already inferred.

    With ``lookup`` None the catalog is not asked: ``from_id`` gives unknown bands (None).
    """
    fn = RULES.get(op)
    return None if fn is None else fn(lookup, op, *args, **(kwargs or {}))


def infer(root: Node, lookup: Lookup, memo: dict[str, Imagery | None] | None = None) -> Imagery | None:
    """Infer every node under ``root`` (children first); returns the root's :class:`Imagery`.

    ``memo`` (node id -> Imagery or None) is filled in and reused.

    Raises
    ------
    ValidationError, NotFound, PermissionDenied
        The first problem found (unknown product or band, band-count mismatch, ...).
    """
    memo = {} if memo is None else memo
    nodes = root.walk()
    if not any(node.op in RULES for node in nodes):  # no imagery anywhere: nothing to infer
        return None
    for node in nodes:
        if node.id in memo:
            continue
        args = [memo.get(a.id) if isinstance(a, Node) else a for a in node.args]
        kwargs = {k: memo.get(v.id) if isinstance(v, Node) else v for k, v in node.kwargs.items()}
        memo[node.id] = apply(lookup, node.op, args, kwargs)
    return memo[root.id]


__all__ = [
    "AXES", "COLLECTION", "IMAGE", "Imagery", "Lookup", "MATH_FUNCS", "REDUCE_RESULT", "REDUCTIONS",
    "RESAMPLERS", "RULES", "apply", "canonical_axis", "check_date_range", "check_mask_bands", "checks_bands",
    "combine_names",
    "concat_names", "infer", "pick_names", "rename_names", "rule", "split_band_names", "unique_names",
]
