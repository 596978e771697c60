"""The runner's own thread pool: up to ``workers`` threads, each added only when it can help.

Threads of one process share the GIL: they help while jobs wait outside Python (reading
rasters, writing files, the network: GDAL, the kernel and sockets release it). Short jobs
that are mostly Python gain nothing from more threads and lose to their contention (on the
2-core machine of ``benchmarks/concurrent_jobs.py``, a plain ``ThreadPoolExecutor`` doing
1,000 trivial jobs is a fifth slower with 6 threads than with 1). So the pool starts one
thread, and sets the next to work (an idle one, or a new one up to its maximum) only while
jobs wait in its queue and every working thread has been on its current job at least
:data:`RAMP_S`: a burst of short jobs runs on one or two threads, a batch of tiles that
read imagery gets every thread within a few times :data:`RAMP_S`. Threads that ran out of
work wait idle, and are woken the same way for the next burst.

It is a :class:`concurrent.futures.Executor` as ``ThreadPoolExecutor`` is: futures, jobs
queued in order, ``shutdown(wait, cancel_futures)``; at the interpreter's exit it runs what
was queued, then its threads end.
"""

from __future__ import annotations

import atexit
import collections
import threading
import time
import weakref
from concurrent.futures import Executor, Future
from typing import Any, Callable

#: Seconds every thread must have been on its current job, with jobs waiting, before another is added.
RAMP_S = 0.02

_pools: weakref.WeakSet[JobPool] = weakref.WeakSet()
_exit_registered = False


def _shutdown_all() -> None:
    for pool in list(_pools):
        pool.shutdown(wait=True)


class JobPool(Executor):
    """A thread pool adding threads as its jobs block (see the module doc).

    Parameters
    ----------
    max_workers : int
        Most threads.
    thread_name_prefix : str
        Names of the threads: ``<prefix>_<n>``.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "wf-job"):
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._cond = threading.Condition()
        self._queue: collections.deque[tuple[Future, Callable[..., Any], tuple, dict]] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._busy: dict[int, float] = {}  # thread ident -> when its current job started
        self._idle = 0  # threads waiting for work
        self._woken = 0  # of those, woken and not yet back to work
        self._ramping = False
        self._shutdown = False

    @property
    def threads(self) -> int:
        """How many threads the pool has started."""
        return len(self._threads)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Queue ``fn(*args, **kwargs)``; its Future.

        Raises
        ------
        RuntimeError
            The pool was shut down.
        """
        global _exit_registered
        future: Future = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.append((future, fn, args, kwargs))
            if not self._threads:
                self._add_thread()
            elif not self._busy and not self._woken and self._idle:  # nobody at work: wake one
                self._wake()
            elif not self._ramping and (self._idle > self._woken or len(self._threads) < self.max_workers):
                self._ramping = True
                threading.Thread(target=self._ramp, name=f"{self._prefix}-ramp", daemon=True).start()
            if not _exit_registered:  # (after the stores opened: exit handlers run last-registered first)
                atexit.register(_shutdown_all)
                _exit_registered = True
            _pools.add(self)
        return future

    def _wake(self) -> None:
        self._woken += 1
        self._cond.notify()

    def _add_thread(self) -> None:
        thread = threading.Thread(target=self._work, name=f"{self._prefix}_{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _ramp(self) -> None:
        # While jobs wait: one more thread to work (an idle one, or a new one) when every working thread has
        # been on its job RAMP_S (they block, or run long), and none is between jobs or just woken.
        while True:
            with self._cond:
                spare = self._idle > self._woken or len(self._threads) < self.max_workers
                if not self._queue or self._shutdown or not spare:
                    self._ramping = False
                    return
                now = time.monotonic()
                working = len(self._threads) - self._idle
                if (not self._woken and len(self._busy) == working
                        and all(now - started >= RAMP_S for started in self._busy.values())):
                    if self._idle:
                        self._wake()
                    else:
                        self._add_thread()
            time.sleep(RAMP_S / 2)

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            with self._cond:
                while not self._queue and not self._shutdown:
                    self._idle += 1
                    self._cond.wait()
                    self._idle -= 1
                    if self._woken:
                        self._woken -= 1
                if not self._queue:  # shut down, nothing left to run
                    return
                future, fn, args, kwargs = self._queue.popleft()
                self._busy[me] = time.monotonic()
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as exc:  # as ThreadPoolExecutor: the future holds it
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
            finally:
                with self._cond:
                    self._busy.pop(me, None)
                del future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more jobs; run those queued (``cancel_futures``: cancel them) and, with ``wait``, wait."""
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                while self._queue:
                    self._queue.popleft()[0].cancel()
            self._cond.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
