"""Evaluate a graph: plan its steps, then compute each node once, children first."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

import numpy as np

from .._context import BackendLike, current
from ..config import Clock
from ..errors import ValidationError
from ..values.graph import Node
from . import imagery  # noqa: F401  (registers the image ops in OPS)
from .ops import OPS
from .reading import CatalogReader


class EvalContext:
    """What an evaluation needs besides the graph, and nothing more.

    It holds catalog reads (a :class:`~wf_widgets.engine.reading.CatalogReader`: the
    catalog store and the user's identity for its access checks), the clock, the
    GeoContext and the step callback: never the Backend nor the Settings (which hold the
    SMTP URL, the home folder and through it the signing key).

    Parameters
    ----------
    geoctx : GeoContext, optional
        Where imagery is computed.
    catalog : CatalogReader, optional
        Catalog reads; the current backend's catalog as its user when first needed if omitted.
    on_step : callable, optional
        Called as ``on_step(steps_done)`` after every unit of work; may raise to stop
        (a cancelled job does).
    clock : Clock, optional
        The clock (:attr:`wf_widgets.config.Settings.clock`); the system clock if omitted.
    """

    __slots__ = ("geoctx", "_catalog", "clock", "on_step", "steps_done", "_wf_imagery")

    def __init__(self, geoctx: Any = None, catalog: CatalogReader | None = None,
                 on_step: Callable[[int], None] | None = None, clock: Clock | None = None):
        if catalog is not None and not isinstance(catalog, CatalogReader):
            raise TypeError(f"catalog must be a CatalogReader, got {type(catalog).__name__} "
                            "(use EvalContext.for_backend for a Backend)")
        self.geoctx = geoctx
        self._catalog = catalog
        self.clock = clock if clock is not None else Clock()
        self.on_step = on_step
        self.steps_done = 0
        self._wf_imagery = None

    @classmethod
    def for_backend(cls, backend: BackendLike, geoctx: Any = None, on_step: Callable[[int], None] | None = None,
                    ) -> "EvalContext":
        """The context of an evaluation for ``backend``: its catalog as its user, its clock (not the backend)."""
        return cls(geoctx, CatalogReader.for_backend(backend), on_step, backend.settings.clock)

    @property
    def catalog(self) -> CatalogReader:
        """Catalog reads (:class:`~wf_widgets.engine.reading.CatalogReader`)."""
        if self._catalog is None:
            self._catalog = CatalogReader.for_backend(current())
        return self._catalog

    def step(self, n: int = 1) -> None:
        """Report ``n`` units of work done."""
        self.steps_done += n
        if self.on_step is not None:
            self.on_step(self.steps_done)


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
