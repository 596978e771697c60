"""The sweep every running mount does at start (when the home is due one, `Backend.ensure_swept`)
and then hourly (`Backend.sweep`: expired results deleted, dead jobs reaped, stored results
verified, leftover temporary files deleted); and, every :data:`DUE_EVERY_S` seconds in between,
what is due (`Backend.sweep_due`: retries of jobs, redeliveries of notifications)."""

from __future__ import annotations

import logging
import time

from tornado.ioloop import IOLoop, PeriodicCallback

from .._context import BackendLike

#: Seconds between sweeps in a running server.
SWEEP_EVERY_S = 3600.0
#: Seconds between looks for due retries and notifications in a running server.
DUE_EVERY_S = 15.0

log = logging.getLogger("wf_widgets.server")


def start_sweeper(backend: BackendLike, interval_s: float | None = None) -> PeriodicCallback:
    """Sweep now (``backend.ensure_swept()``), then run ``backend.sweep()`` every ``interval_s`` seconds,
    and ``backend.sweep_due()`` every :data:`DUE_EVERY_S` seconds in between.

    ``interval_s`` defaults to :data:`SWEEP_EVERY_S` (both read at call time).

    Must be called on the loop that will run it. The sweep itself runs in the loop's
    default executor so that deleting many files never stalls downloads.

    Returns
    -------
    tornado.ioloop.PeriodicCallback
        Started; call ``stop()`` to end it.
    """

    every = SWEEP_EVERY_S if interval_s is None else interval_s
    last = [time.monotonic()]

    async def sweep() -> None:
        full = time.monotonic() - last[0] >= every
        if full:
            last[0] = time.monotonic()
        try:
            pending = IOLoop.current().run_in_executor(None, backend.sweep if full else backend.sweep_due)
        except RuntimeError:  # the loop's executor is shut down (the process is ending): no more sweeps
            callback.stop()
            return
        try:
            counts = await pending
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
    callback = PeriodicCallback(sweep, min(every, DUE_EVERY_S) * 1000.0)
    callback.start()
    return callback
