"""Evaluate a graph: plan its steps, then compute each node once, children first."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..values.graph import Node
from . import imagery  # noqa: F401  (registers the image ops in OPS)
from .context import EvalContext
from .ops import OPS


def _spec(node: Node):
    spec = OPS.get(node.op)
    if spec is None:
        raise ValidationError.bad_value("graph.op", node.op, sorted(OPS), what="operation")
    return spec


def plan(root: Node, ctx: EvalContext) -> int:
    """Number of steps evaluating ``root`` will report (one per node plus each op's extras)."""
    total = 0
    for node in root.walk():
        spec = _spec(node)
        total += 1 + (spec.extra_steps(ctx, node) if spec.extra_steps else 0)
    return total


def evaluate(root: Node, ctx: EvalContext | None = None) -> Any:
    """Compute ``root``; returns plain Python values, numpy arrays or result objects."""
    ctx = ctx or EvalContext()
    values: dict[str, Any] = {}
    for node in root.walk():
        spec = _spec(node)
        args = [values[a.id] if isinstance(a, Node) else a for a in node.args]
        kwargs = {k: values[v.id] if isinstance(v, Node) else v for k, v in node.kwargs.items()}
        values[node.id] = spec.fn(ctx, *args, **kwargs) if spec.context else spec.fn(*args, **kwargs)
        ctx.step()
    result = values[root.id]
    finish = getattr(result, "_wf_result", None)  # a lazily read collection: read it now, counted as steps
    return to_python(finish() if finish is not None else result)


def needs_geoctx(root: Node) -> bool:
    """True if evaluating ``root`` reads imagery, which needs a GeoContext."""
    return any(OPS[n.op].needs_geoctx for n in root.walk() if n.op in OPS)


def to_python(value: Any) -> Any:
    """Turn numpy scalars into Python ones, recursively through lists and dicts."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, _dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value


__all__ = ["EvalContext", "evaluate", "needs_geoctx", "plan", "to_python"]
