"""Estimate the memory evaluating a graph needs, and refuse what is over the limit before any work.

:func:`estimate` walks the graph in evaluation order (children first) and adds up every
array it will hold at once, as the evaluator and the kernels of
:mod:`wf_widgets.engine.raster` allocate them:

* every node's result stays held until the evaluation ends (the evaluator keeps them all);
* imagery is float64 data plus a boolean mask: 9 bytes per band and pixel of the GeoContext;
* ``ImageCollection.from_id`` holds nothing until an op needs its whole stack; then it
  reads ``scenes x bands x pixels`` once and keeps it. The scene count is the catalog
  query the job's planning does (:func:`wf_widgets.engine.imagery.check_node`), cached on
  the EvalContext;
* reductions over ``"images"`` by mean, sum, count, min, max, and ``mosaic``, of a
  collection not read yet stream over the scenes: they hold the result plus one scene and
  their accumulators, not the stack; every other reduction (median, std, other axes) reads
  the stack and needs about its size again for numpy's temporaries;
* element-wise ops hold their result and need about its size again in temporaries;
* numeric Arrays: their literal shape, through broadcasting and reductions (8 bytes per item;
  numpy's element-wise ops allocate their result only);
* the result is encoded once more at the end.

What can't be known statically (a product the user can't read, an unknown band: the job
reports those when it prepares) counts as nothing here. :func:`check` raises a
ValidationError giving the estimate and the setting (``max_memory``,
``WF_WIDGETS_MAX_MEMORY``) when the estimate is over the limit.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..errors import ValidationError, WfError
from ..values import imagery_rules as rules
from ..values.graph import Node
from .context import EvalContext
from .imagery import check_node, state
from .raster import STREAMED

#: Bytes per band and pixel of imagery: float64 data and a boolean mask.
PIXEL_BYTES = 9
#: Bytes per item of a numeric Array (float64, the widest usual type).
ITEM_BYTES = 8
#: Bytes per band and pixel a streamed reduction needs besides its result (accumulator,
#: count, validity, one scene's data and mask).
STREAM_BYTES = 8 + 4 + 1 + 8 + 1
#: Bytes per band and pixel ``mosaic`` needs besides its result (filled, take, one scene's data and mask).
MOSAIC_BYTES = 1 + 1 + 8 + 1
_ELEMENTWISE = rules.BINARY_OPS | rules.UNARY_OPS | {"image_math", "clip_values", "scale_values", "mask",
                                                       "getmask", "concat_bands"}
_LAZY_OPS = ("pick_bands", "rename_bands", "with_properties")
_NO_PIXELS = ("length", "image_properties")


@dataclasses.dataclass
class _Value:
    """What the estimate knows of one node's value."""

    images: int | None = None  # an ImageCollection's image count (None: an Image)
    bands: int = 0  # imagery band count (0: not imagery, or unknown)
    lazy: bool = False  # a SceneCollection not read yet
    shape: tuple | None = None  # a numeric Array's shape

    @property
    def imagery(self) -> bool:
        return self.bands > 0


@dataclasses.dataclass
class Estimate:
    """An estimate of the bytes one evaluation needs.

    Attributes
    ----------
    total : int
        Bytes held at the peak.
    largest : int
        Bytes of the largest single array.
    largest_what : str
        What that array is (``"an ImageCollection of 20 images x 2 bands x 4096 x 4096 pixels"``).
    """

    total: int = 0
    largest: int = 0
    largest_what: str = ""

    def _note(self, nbytes: int, what: str) -> None:
        if nbytes > self.largest:
            self.largest, self.largest_what = nbytes, what


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit below it, one decimal (``"5.4 GiB"``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
    raise AssertionError("unreachable")  # pragma: no cover


def estimate(root: Node, ctx: EvalContext | None = None) -> Estimate:
    """The memory evaluating ``root`` in ``ctx`` (an EvalContext; None: no imagery counted) needs.

    Imagery needs ``ctx.geoctx``; without one it counts as nothing (``compute()`` refuses
    imagery without a geoctx anyway).
    """
    geoctx = getattr(ctx, "geoctx", None) if ctx is not None else None
    if geoctx is None and not any(node.op == "array" for node in root.walk()):
        return Estimate()  # without imagery, only Array literals (and what is made of them) hold memory
    height, width = (int(geoctx.height), int(geoctx.width)) if geoctx is not None else (0, 0)
    pixels = height * width
    est = Estimate()
    held = 0
    work = 0
    known: dict[str, _Value] = {}
    read: set[str] = set()  # lazy collections whose stack was read

    def image_bytes(v: _Value, bands: int | None = None) -> int:
        return (v.images if v.images is not None else 1) * (v.bands if bands is None else bands) * pixels * PIXEL_BYTES

    def describe(v: _Value, bands: int | None = None) -> str:
        b = v.bands if bands is None else bands
        if v.images is None:
            return f"an Image of {b} band(s) x {height} x {width} pixels"
        return f"an ImageCollection of {v.images} image(s) x {b} band(s) x {height} x {width} pixels"

    def read_stack(node: Node) -> int:
        """Bytes newly held by reading the stack of a lazy operand (0 if read already)."""
        v = known.get(node.id)
        if v is None or not v.lazy or node.id in read:
            return 0
        read.add(node.id)
        nbytes = image_bytes(v)
        est._note(nbytes, describe(v))
        return nbytes

    for node in root.walk():
        operands = [a for a in list(node.args) + list(node.kwargs.values()) if isinstance(a, Node)]
        ins = [known.get(a.id, _Value()) for a in operands]
        out = _Value()
        node_held = node_work = 0
        if geoctx is not None and (node.op in rules.RULES or node.op in ("image_from_id", "ic_from_id")):
            info, images = _static(ctx, node, ins)
            if info is not None and info.bands is not None:
                out = _Value(images=images if info.kind == rules.COLLECTION else None, bands=len(info.bands))
        imagery_in = [(a, v) for a, v in zip(operands, ins) if v.imagery]
        if node.op == "ic_from_id" and out.imagery:
            out.lazy = True
        elif node.op in _LAZY_OPS and imagery_in and imagery_in[0][1].lazy and out.imagery:
            out.lazy = True
        elif node.op in _NO_PIXELS:
            pass
        elif node.op == "image_from_id" and out.imagery:
            node_held = image_bytes(out)
            est._note(node_held, describe(out))
        elif node.op in ("reduce", "mosaic") and imagery_in:
            src_node, src = imagery_in[0]
            streamed = src.lazy and src_node.id not in read and (
                node.op == "mosaic" or (node.args[1] in STREAMED and _axis(node, src) == ("images",)))
            if streamed:
                node_work = src.bands * pixels * (MOSAIC_BYTES if node.op == "mosaic" else STREAM_BYTES)
            else:
                node_held += read_stack(src_node)
                node_work = image_bytes(src)
            if out.imagery:
                node_held += image_bytes(out)
                est._note(image_bytes(out), describe(out))
        elif node.op in _ELEMENTWISE and imagery_in or (node.op in _LAZY_OPS and imagery_in):
            node_held += sum(read_stack(a) for a, _ in imagery_in)
            if out.imagery:
                node_held += image_bytes(out)
                node_work = image_bytes(out)
                est._note(image_bytes(out), describe(out))
        else:
            out.shape = _array_shape(node, ins)
            if out.shape is not None:
                node_held = math.prod(out.shape) * ITEM_BYTES
                node_work = node_held if node.op == "array" else 0  # the decoded payload, then its copy
                est._note(node_held, f"an Array of shape {out.shape}")
        known[node.id] = out
        held += node_held
        work = max(work, node_work)
    final = known.get(root.id, _Value())
    result = read_stack(root) if final.lazy else 0  # the result collection is read at the end
    held += result
    encode = result or (image_bytes(final) if final.imagery else 0) or (
        math.prod(final.shape) * ITEM_BYTES if final.shape is not None else 0)
    est.total = held + work + encode
    return est


def _static(ctx: EvalContext, node: Node, ins: list[_Value]) -> tuple[Any, int | None]:
    """``(static Imagery or None, image count or None)`` of an imagery node; None where unknown."""
    try:
        scenes = check_node(ctx, node)  # the planning step: the scene query of a from_id, cached
    except WfError:
        return None, None
    info = state(ctx).memo.get(node.id)
    if node.op == "ic_from_id":
        return info, scenes
    counts = [v.images for v in ins if v.imagery and v.images is not None]
    return info, max(counts) if counts else None


def _axis(node: Node, src: _Value) -> tuple[str, ...] | None:
    try:
        return rules.canonical_axis(rules.COLLECTION if src.images is not None else rules.IMAGE, node.args[2])
    except (ValidationError, IndexError):
        return None


def _array_shape(node: Node, ins: list[_Value]) -> tuple | None:
    """The shape of a numeric Array result, where it can be known statically."""
    if node.op == "array":
        return tuple(node.args[1]) if len(node.args) == 3 and isinstance(node.args[1], list) else None
    shapes = [v.shape for v in ins]
    if not any(s is not None for s in shapes):
        return None
    if node.op in rules.BINARY_OPS | rules.UNARY_OPS:
        try:
            return tuple(np.broadcast_shapes(*[s if s is not None else () for s in shapes]))
        except ValueError:
            return max((s for s in shapes if s is not None), key=math.prod)
    if node.op == "array_reduce" and shapes[0] is not None:
        axis = node.args[2] if len(node.args) == 3 else None
        if axis is None:
            return None
        axes = {a % len(shapes[0]) for a in (axis if isinstance(axis, list) else [axis])} if shapes[0] else set()
        return tuple(n for i, n in enumerate(shapes[0]) if i not in axes)
    if node.op == "getitem" and shapes[0]:
        return shapes[0][1:]
    return None


def check(root: Node, ctx: EvalContext | None, limit: int) -> Estimate:
    """Raise ValidationError if evaluating ``root`` in ``ctx`` needs more than ``limit`` bytes by :func:`estimate`.

    Returns the estimate otherwise.
    """
    est = estimate(root, ctx)
    if est.total > limit:
        largest = f"; the largest array is {est.largest_what} ({format_bytes(est.largest)})" if est.largest else ""
        raise ValidationError(
            f"This computation needs an estimated {format_bytes(est.total)} of memory, more than the limit "
            f"max_memory = {format_bytes(limit)}{largest}. Compute a smaller geoctx (fewer pixels: a smaller tile "
            "or DLTile.subtile), fewer bands or images (pick_bands, limit=), a reduction that streams "
            "(mean, sum, count, min, max over 'images', or mosaic), or raise the limit with the setting "
            "max_memory (environment variable WF_WIDGETS_MAX_MEMORY, e.g. '32GiB')",
            field="max_memory", value=est.total)
    return est
