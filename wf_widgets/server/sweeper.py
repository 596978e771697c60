"""The sweep every running mount does at start (when the home is due one, `Backend.ensure_swept`)
and then hourly (`Backend.sweep`: expired results deleted, dead jobs reaped, stored results
verified, leftover temporary files deleted); and, every :data:`DUE_EVERY_S` seconds in between,
what is due (`Backend.sweep_due`: retries of jobs, redeliveries of notifications)."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tornado.ioloop import IOLoop, PeriodicCallback

from .._context import BackendLike

#: Seconds between sweeps in a running server.
SWEEP_EVERY_S = 3600.0
#: Seconds between looks for due retries and notifications in a running server.
DUE_EVERY_S = 15.0

log = logging.getLogger("wf_widgets.server")


class Sweeper(PeriodicCallback):
    """The periodic sweep of a running server; its sweeps run one at a time in a thread of its own.

    :meth:`stop` waits for a sweep in progress, so whoever closes the backend after stopping
    the server never closes a store under a running sweep.
    """

    def __init__(self, callback: Any, callback_time: float) -> None:
        super().__init__(callback, callback_time)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wf-sweep")

    def stop(self) -> None:
        super().stop()
        self.executor.shutdown(wait=True, cancel_futures=True)


def start_sweeper(backend: BackendLike, interval_s: float | None = None) -> Sweeper:
    """Sweep now (``backend.ensure_swept()``), then run ``backend.sweep()`` every ``interval_s`` seconds,
    and ``backend.sweep_due()`` every :data:`DUE_EVERY_S` seconds in between.

    ``interval_s`` defaults to :data:`SWEEP_EVERY_S` (both read at call time).

    Must be called on the loop that will run it. The sweeps run in the sweeper's own thread
    so that deleting many files never stalls downloads, one at a time.

    Returns
    -------
    Sweeper
        A started ``tornado.ioloop.PeriodicCallback``; call ``stop()`` to end it (it waits
        for a sweep in progress).
    """

    every = SWEEP_EVERY_S if interval_s is None else interval_s
    last = [time.monotonic()]

    async def sweep() -> None:
        full = time.monotonic() - last[0] >= every
        if full:
            last[0] = time.monotonic()
        try:
            pending = IOLoop.current().run_in_executor(callback.executor, backend.sweep if full else backend.sweep_due)
        except RuntimeError:  # stopped (its executor is shut down): no more sweeps
            return
        try:
            counts = await pending
        except asyncio.CancelledError:  # stopped meanwhile
            return
        except Exception:  # a locked database, a vanished file: the next sweep retries
            log.exception("wf_widgets: periodic sweep failed")
            return
        if any(counts.values()):
            log.info("wf_widgets: swept %s", counts)

    async def first() -> None:
        try:
            await IOLoop.current().run_in_executor(callback.executor, backend.ensure_swept)
        except (RuntimeError, asyncio.CancelledError):  # stopped before it began or ended
            return
        except Exception:
            log.exception("wf_widgets: sweep at start failed")

    callback = Sweeper(sweep, min(every, DUE_EVERY_S) * 1000.0)
    IOLoop.current().add_callback(first)
    callback.start()
    return callback
