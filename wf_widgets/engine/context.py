"""The context of one evaluation: the GeoContext, catalog reads, the clock and the step callback."""

from __future__ import annotations

from typing import Callable

from .._context import BackendLike, current
from ..config import Clock
from ..geo import GeoContext
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

    def __init__(self, geoctx: GeoContext | None = None, catalog: CatalogReader | None = None,
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
    def for_backend(cls, backend: BackendLike, geoctx: GeoContext | None = None,
                    on_step: Callable[[int], None] | None = None) -> "EvalContext":
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
