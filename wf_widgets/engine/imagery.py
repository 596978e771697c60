"""The image ops of the op table, and their checks at PREPARING.

Importing this module registers the ops (``ic_from_id``, ``image_from_id``,
``pick_bands``, ``reduce``, ``mosaic``, ...) in :data:`wf_widgets.engine.ops.OPS`, and
extends the generic operators (``add``, ``lt``, ``neg``, ...) so that they also work on
imagery (numpy kernels in :mod:`wf_widgets.engine.raster`).

Every image op (and every generic operator) has an ``extra_steps`` hook, which
:func:`~wf_widgets.engine.evaluate.plan` calls for each node, children first, while the
job is PREPARING. The hook infers the node statically (:mod:`wf_widgets.values.imagery_rules`):
unknown products, missing read access, empty date ranges, unknown band names and
band-count mismatches fail there, before any scene is read. For ``from_id`` nodes it also
finds the scenes intersecting the GeoContext and returns their number, so ``steps_total``
counts one step per scene read. The scene lists are kept on the EvalContext and reused by
the evaluation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import ValidationError
from ..values import imagery_rules as rules
from ..values.graph import Node, literal, value
from . import raster
from .context import EvalContext
from .ops import OPS, OpSpec, iso_date, op, same_length, str_list
from .reading import CatalogReader


@dataclasses.dataclass
class _State:
    """Per-evaluation imagery state, kept on the EvalContext.

    It is the static rules' catalog lookup too (a
    :class:`~wf_widgets.values.imagery_rules.Lookup`), opening the catalog only when a rule
    asks (a graph without imagery never touches it).
    """

    ctx: EvalContext
    memo: dict = dataclasses.field(default_factory=dict)
    scenes: dict = dataclasses.field(default_factory=dict)
    _reader: CatalogReader | None = None

    @property
    def reader(self) -> CatalogReader:
        if self._reader is None:
            self._reader = self.ctx.catalog
        return self._reader

    def product_bands(self, product_id: str) -> list[str]:
        return self.reader.product_bands(product_id)

    def image_product(self, image_id: str) -> str:
        return self.reader.image_product(image_id)

    def geoctx(self) -> Any:
        if self.ctx.geoctx is None:
            raise ValidationError(
                "Computing imagery needs a geoctx: a DLTile (wf.DLTile.from_latlon(...)) or an AOI",
                field="geoctx", value=None)
        return self.ctx.geoctx

    def collection_scenes(self, product_id: str, start: str | None, end: str | None, limit: int | None) -> list:
        key = ("ic", product_id, start, end, limit)
        if key not in self.scenes:
            self.scenes[key] = self.reader.scenes(product_id, start, end, limit, self.geoctx())
        return self.scenes[key]

    def image_scene(self, image_id: str) -> Any:
        key = ("image", image_id)
        if key not in self.scenes:
            self.geoctx()
            self.scenes[key] = self.reader.image_scene(image_id)
        return self.scenes[key]


def state(ctx: EvalContext) -> _State:
    """The imagery state of an EvalContext (created on first use)."""
    st = ctx._wf_imagery
    if st is None:
        st = ctx._wf_imagery = _State(ctx)
    return st


# -- PREPARING ------------------------------------------------------------------------------
def check_node(ctx: EvalContext, node: Node) -> int:
    """Infer ``node`` statically (raising on the first problem); returns its extra steps."""
    st = state(ctx)
    if node.id not in st.memo:
        args = [_inferred(st, a) for a in node.args]
        kwargs = {k: _inferred(st, v) for k, v in node.kwargs.items()}
        st.memo[node.id] = rules.apply(st, node.op, args, kwargs)
    if node.op == "ic_from_id":
        product_id, start, end, limit, _ = node.args
        return len(st.collection_scenes(product_id, start, end, limit))
    if node.op == "image_from_id":
        st.image_scene(node.args[0])
        return 1
    return 0


def _inferred(st: _State, arg: Any) -> Any:
    if not isinstance(arg, Node):
        return arg
    if arg.id not in st.memo and arg.op in rules.RULES:
        rules.infer(arg, st, st.memo)
    return st.memo.get(arg.id)


# -- literal checks ------------------------------------------------------------------------------
def _band_names(v: Any, field: str) -> None:
    rules.split_band_names(v)


def _limit(v: Any, field: str) -> None:
    rules.check_limit(v)


def _axis(v: Any, field: str) -> None:
    names = [v] if isinstance(v, str) else v
    if names is not None and not all(isinstance(n, str) and n in rules.AXES for n in names):
        raise ValidationError(f"{field!r} must be None, an axis name or a list of axis names of "
                              f"{', '.join(map(repr, rules.AXES))}, got {v!r}", field=field, value=v,
                              allowed=rules.AXES)


# -- sources ------------------------------------------------------------------------------------
@op("ic_from_id", literal("product_id", str), literal("start", str, type(None), check=iso_date),
    literal("end", str, type(None), check=iso_date), literal("limit", int, type(None), check=_limit),
    literal("resampler", str, allowed=rules.RESAMPLERS), context=True, extra_steps=check_node, needs_geoctx=True)
def _ic_from_id(ctx: EvalContext, product_id: str, start: str | None = None, end: str | None = None,
                limit: int | None = None, resampler: str = "near") -> raster.SceneCollection:
    rules.check_date_range(start, end)
    rules.check_resampler(resampler)
    st = state(ctx)
    product = st.reader.product(product_id)
    scenes = st.collection_scenes(product_id, start, end, limit)
    source = raster.SceneSource(ctx, st.reader, product, scenes, resampler)
    return raster.SceneCollection(source, product.band_names)


@op("image_from_id", literal("image_id", str), literal("resampler", str, allowed=rules.RESAMPLERS, required=False),
    keywords=True, context=True, extra_steps=check_node, needs_geoctx=True)
def _image_from_id(ctx: EvalContext, image_id: str, resampler: str = "near") -> Any:
    rules.check_resampler(resampler)
    st = state(ctx)
    scene = st.image_scene(image_id)
    product = st.reader.product(scene.properties["product"])
    source = raster.SceneSource(ctx, st.reader, product, [scene], resampler)
    stack = raster.SceneCollection(source, product.band_names).materialize()
    return raster.ImageResult(stack.ndarray[0], properties=stack.properties[0], bandinfo=stack.bandinfo,
                              geocontext=stack.geocontext)


# -- image ops (each with its signature) ------------------------------------------------------------
def _register(name: str, fn: Any, *params: Any, **signature: Any) -> None:
    op(name, *params, extra_steps=check_node, **signature)(fn)


_register("pick_bands", raster.pick_bands, value("image"), literal("names", str, list, check=_band_names))
_register("rename_bands", raster.rename_bands, value("image"), literal("names", list, check=str_list))
_register("concat_bands", raster.concat_bands, value("image"), value("other"))
_register("image_math", raster.math, value("image"), literal("name", str, allowed=rules.MATH_FUNCS))
_register("clip_values", raster.clip_values, value("image"), value("lo", required=False),
          value("hi", required=False), keywords=True)
_register("scale_values", raster.scale_values, value("image"), value("range_min"), value("range_max"),
          value("domain_min", required=False), value("domain_max", required=False), keywords=True)
_register("mask", raster.mask, value("image"), value("m"), literal("replace", bool, required=False), keywords=True)
_register("getmask", raster.getmask, value("image"))
_register("with_properties", raster.with_properties, value("image"), literal("keys", list, check=str_list),
          varargs=value("value"), check=same_length(1))
_register("image_properties", raster.properties, value("image"))
_register("reduce", raster.reduce, value("image"), literal("name", str, allowed=rules.REDUCTIONS),
          literal("axis", str, list, type(None), check=_axis))
_register("mosaic", raster.mosaic, value("image"), literal("reverse", bool, required=False), keywords=True)


@op("zip", varargs=value("sequence"))
def _zip(*sequences: Any) -> list:
    return list(zip(*(raster.items(s) for s in sequences)))


# -- generic operators on imagery ------------------------------------------------------------------
def _extend_binary(name: str, generic: Any):
    def fn(a: Any, b: Any) -> Any:
        if isinstance(a, raster.Imagery) or isinstance(b, raster.Imagery):
            return raster.binary(name, a, b)
        return generic(a, b)

    fn.__name__ = f"{name}_or_imagery"
    return fn


def _extend_unary(name: str, generic: Any):
    def fn(a: Any) -> Any:
        if isinstance(a, raster.Imagery):
            return raster.unary(name, a)
        return generic(a)

    fn.__name__ = f"{name}_or_imagery"
    return fn


def _extend_generic_ops() -> None:
    for name in sorted(rules.BINARY_OPS | rules.UNARY_OPS):
        spec = OPS[name]
        if getattr(spec.fn, "__name__", "").endswith("_or_imagery"):
            continue  # already extended (module reloaded)
        extend = _extend_binary if name in rules.BINARY_OPS else _extend_unary
        OPS[name] = OpSpec(extend(name, spec.fn), spec.context, check_node)


_extend_generic_ops()
