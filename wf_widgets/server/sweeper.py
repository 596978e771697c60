"""The sweep every running mount does at start (when the home is due one, `Backend.ensure_swept`)
and then hourly (`Backend.sweep`: expired results deleted, dead jobs reaped, stored results
verified, leftover temporary files deleted)."""

from __future__ import annotations

import logging

from tornado.ioloop import IOLoop, PeriodicCallback

from .._context import BackendLike

#: Seconds between sweeps in a running server.
SWEEP_EVERY_S = 3600.0

log = logging.getLogger("wf_widgets.server")


def start_sweeper(backend: BackendLike, interval_s: float | None = None) -> PeriodicCallback:
    """Sweep now (``backend.ensure_swept()``), then run ``backend.sweep()`` every ``interval_s`` seconds.

    ``interval_s`` defaults to :data:`SWEEP_EVERY_S` (read at call time).

    Must be called on the loop that will run it. The sweep itself runs in the loop's
    default executor so that deleting many files never stalls downloads.

    Returns
    -------
    tornado.ioloop.PeriodicCallback
        Started; call ``stop()`` to end it.
    """

    async def sweep() -> None:
        try:
            counts = await IOLoop.current().run_in_executor(None, backend.sweep)
        except Exception:  # a locked database, a vanished file: the next sweep retries
            log.exception("wf_widgets: periodic sweep failed")
            return
        if any(counts.values()):
            log.info("wf_widgets: swept %s", counts)

    async def first() -> None:
        try:
            await IOLoop.current().run_in_executor(None, backend.ensure_swept)
        except Exception:
            log.exception("wf_widgets: sweep at start failed")

    IOLoop.current().add_callback(first)
    callback = PeriodicCallback(sweep, (SWEEP_EVERY_S if interval_s is None else interval_s) * 1000.0)
    callback.start()
    return callback
