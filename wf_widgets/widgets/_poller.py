"""Poller: the background thread a widget uses to follow a store without blocking the kernel.

A widget that shows something changing elsewhere (job rows, tile render errors) reads it
on a thread and must never set a trait from that thread: ipywidgets sends comm messages
from whatever thread changes a trait, and the kernel's messages are not thread-safe. So:

* the thread calls ``collect()`` every ``interval`` seconds (sooner after :meth:`Poller.wake`);
  it returns an update, or None when nothing changed;
* an update goes into a one-slot queue: a newer one replaces an older one not yet applied,
  so a busy or slow kernel gets the latest state, never a backlog;
* the thread asks the kernel's IOLoop (``loop.add_callback``) to run ``apply(update)``; it
  asks again only once that callback has run and ``interval`` seconds have passed since the
  last apply: at most one apply per ``interval``, however often things change;
* an exception raised by ``collect()`` stops the thread and is handed to the loop as
  ``on_error(exc)`` (or logged at ERROR level when there is no loop); one raised by
  ``apply()`` on the loop goes to ``on_error`` too. Nothing is swallowed;
* the thread ends on :meth:`Poller.stop`, or by itself when ``active()`` says there is
  nothing left to follow and the last update was handed over; :meth:`Poller.start` starts
  it again.

Without a loop (plain Python, pytest) updates wait in the slot; the widget reads its state
itself (``JobsBoard.refresh``, ``TileMap.poll_errors``) and :meth:`Poller.discard` drops them.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any, Callable

log = logging.getLogger("wf_widgets.widgets")


def _always() -> bool:
    return True


class Poller:
    """Polls ``collect`` on a daemon thread and hands its updates to the kernel's IOLoop.

    Parameters
    ----------
    collect : callable () -> object or None
        Called on the poller's thread; an update to apply, or None when nothing changed.
    apply : callable (update) -> None
        Called on the loop with the newest update.
    on_error : callable (exception) -> None
        Called on the loop with an exception raised by ``collect`` or ``apply``.
    interval : float
        Seconds between two polls, and the least time between two applies.
    loop : tornado IOLoop or None
        Where ``apply`` and ``on_error`` run (anything with ``add_callback``); None: nowhere,
        updates wait in the slot. An attribute, may be changed later.
    name : str
        The thread's name.
    active : callable () -> bool, optional
        Checked when ``collect`` returned None: False ends the thread (once any update
        waiting in the slot was handed to the loop). Default: always active.
    """

    def __init__(self, collect: Callable[[], Any], apply: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], *, interval: float, loop: Any, name: str,
                 active: Callable[[], bool] = _always) -> None:
        self._collect = collect
        self._apply = apply
        self._on_error = on_error
        self.interval = float(interval)
        self.loop = loop
        self.name = name
        self._active = active
        self._lock = threading.Lock()
        self._slot: collections.deque = collections.deque(maxlen=1)  # the newest update not yet applied
        self._scheduled = False  # a callback is on the loop and has not run yet
        self._last_apply = float("-inf")  # time.monotonic() of the last apply
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    # -- control, from the widget -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the thread, unless it runs (then wake it: it polls at once)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
                self._wake.set()
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name=self.name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Poll sooner (an update is still applied no sooner than ``interval`` after the last)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds)."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)

    def discard(self) -> None:
        """Drop the update waiting in the slot (the widget has just read a newer state itself)."""
        self._slot.clear()

    # -- the thread -----------------------------------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    update = self._collect()
                except Exception as exc:
                    self._fail(exc)
                    return
                if update is not None:
                    self._slot.append(update)
                waiting = self._hand_over()
                with self._lock:  # decided and recorded at once: start() then sees no thread
                    if update is None and not waiting and not self._active():
                        if self._thread is threading.current_thread():
                            self._thread = None
                        return
                self._sleep(stop)
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _due_in(self) -> float:
        """Seconds until the next apply is allowed."""
        return self._last_apply + self.interval - time.monotonic()

    def _hand_over(self) -> bool:
        """Ask the loop to apply the slot when allowed; True if an update still waits for that."""
        loop = self.loop
        with self._lock:
            if not self._slot or loop is None or self._scheduled:
                return False
            if self._due_in() > 0:
                return True
            self._scheduled = True
        loop.add_callback(self._apply_pending)
        return False

    def _sleep(self, stop: threading.Event) -> None:
        """Wait ``interval`` (or until woken), shorter if an update waits for its turn."""
        timeout = self.interval
        with self._lock:
            if self._slot and self.loop is not None and not self._scheduled:
                timeout = min(timeout, max(0.0, self._due_in()))
        self._wake.wait(timeout)
        self._wake.clear()

    def _fail(self, exc: Exception) -> None:
        loop = self.loop
        if loop is None:
            log.error("The %s poller stopped", self.name, exc_info=exc)
        else:
            loop.add_callback(self._report, exc)

    # -- on the loop ----------------------------------------------------------------------------------
    def _apply_pending(self) -> None:
        with self._lock:
            self._scheduled = False
            try:
                update = self._slot.popleft()
            except IndexError:  # discarded meanwhile
                return
            self._last_apply = time.monotonic()
        try:
            self._apply(update)
        except Exception as exc:  # on the loop, an exception would only reach the kernel's log
            self._report(exc)

    def _report(self, exc: BaseException) -> None:
        try:
            self._on_error(exc)
        except Exception:
            log.error("The %s poller could not show an error", self.name, exc_info=exc)
