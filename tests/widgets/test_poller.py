"""The widgets' Poller: one-slot hand-off to the loop, the rate limit, stopping, errors shown."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time

import pytest

from wf_widgets.widgets._poller import Poller

from .conftest import ManualLoop, wait_until


class Counter:
    """A collect function: a new number on every call."""

    def __init__(self):
        self._numbers = itertools.count(1)
        self.calls: list[int] = []

    def __call__(self) -> int:
        n = next(self._numbers)
        self.calls.append(n)
        return n


@pytest.fixture
def pollers():
    """Pollers made by a test; stopped after it."""
    made: list[Poller] = []

    def make(collect, apply, on_error=None, interval=0.01, loop=None, **kwargs):
        p = Poller(collect, apply, on_error if on_error is not None else pytest.fail, interval=interval, loop=loop,
                   name="test", **kwargs)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def test_a_newer_update_replaces_one_not_yet_applied(pollers):
    loop, counter, applied = ManualLoop(), Counter(), []
    p = pollers(counter, applied.append, loop=loop)
    p.start()
    wait_until(lambda: len(counter.calls) >= 5, what="five polls")
    p.stop()
    assert not p.running
    assert loop.pending == 1  # asked once: later updates replaced the waiting one
    loop.run()
    assert applied == [counter.calls[-1]]  # only the newest is applied
    assert loop.run() == 0 and applied == [counter.calls[-1]]


def test_without_a_loop_updates_wait_in_the_slot_until_discarded(pollers):
    news, calls, applied = ["first"], [], []

    def collect():
        calls.append(1)
        return news.pop(0) if news else None

    p = pollers(collect, applied.append, loop=None)
    p.start()
    wait_until(lambda: len(calls) >= 2, what="two polls")
    p.loop = ManualLoop()  # a loop appears: what waited is handed over
    wait_until(lambda: p.loop.pending, what="the hand-off")
    p.loop.run()
    assert applied == ["first"]

    p.loop = None
    news.append("second")
    wait_until(lambda: not news, what="the second update collected")
    polled = len(calls)
    wait_until(lambda: len(calls) > polled, what="the poll after it (the update is in the slot)")
    p.discard()  # the widget read a newer state itself
    p.loop = ManualLoop()
    seen = len(calls)
    wait_until(lambda: len(calls) >= seen + 2, what="two more polls")
    assert p.loop.pending == 0 and applied == ["first"]


def test_applies_run_on_the_loop_at_most_one_per_interval(pollers):
    interval = 0.1
    applied: list[tuple[float, threading.Thread, int]] = []

    async def main():
        from tornado.ioloop import IOLoop

        p = pollers(Counter(), lambda n: applied.append((time.monotonic(), threading.current_thread(), n)),
                    interval=interval, loop=IOLoop.current())
        p.start()
        deadline = time.monotonic() + 30
        while len(applied) < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        p.stop()

    asyncio.run(main())
    assert len(applied) >= 5
    assert all(thread is threading.main_thread() for _t, thread, _n in applied)  # never from the poller's thread
    times = [t for t, _thread, _n in applied]
    assert all(b - a >= interval for a, b in zip(times, times[1:]))
    numbers = [n for _t, _thread, n in applied]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_a_late_loop_delays_the_next_apply_by_the_interval(pollers):
    interval = 0.05
    loop, applied_at = ManualLoop(), []
    p = pollers(Counter(), lambda n: applied_at.append(time.monotonic()), interval=interval, loop=loop)
    p.start()
    for i in range(4):
        wait_until(lambda: loop.pending, what=f"hand-off {i}")
        loop.run()  # the loop runs the callback late (whenever the test gets to it)
    p.stop()
    # each hand-off was asked for no sooner than an interval after the previous apply
    assert len(applied_at) == 4
    assert all(asked >= applied + interval for applied, asked in zip(applied_at, loop.asked_at[1:]))


def test_stop_and_start_again(pollers):
    counter = Counter()
    p = pollers(counter, lambda n: None)
    p.start()
    assert p.running
    wait_until(lambda: counter.calls, what="a poll")
    p.stop()
    assert not p.running
    seen = len(counter.calls)  # the thread has ended: nothing polls any more
    p.start()
    assert p.running
    wait_until(lambda: len(counter.calls) > seen, what="polling again")


def test_the_thread_ends_when_nothing_is_left_to_follow(pollers):
    state = {"value": 1, "active": True, "last": None}

    def collect():
        value = state["value"]
        if value == state["last"]:
            return None
        state["last"] = value
        return value

    loop, applied = ManualLoop(), []
    p = pollers(collect, applied.append, loop=loop, active=lambda: state["active"])
    p.start()
    wait_until(lambda: loop.pending, what="the first hand-off")
    loop.run()
    state["value"], state["active"] = 2, False  # the last change, then nothing more to follow
    wait_until(lambda: not p.running, what="the thread ending by itself")
    loop.run()
    assert applied == [1, 2]  # the last update was handed over before the thread ended
    state["value"], state["active"] = 3, True
    p.start()
    wait_until(lambda: loop.pending, what="a hand-off after start()")
    loop.run()
    assert applied == [1, 2, 3]


def test_an_error_in_collect_stops_the_thread_and_is_shown_on_the_loop(pollers):
    calls = []

    def collect():
        calls.append(threading.current_thread())
        raise RuntimeError("the store is gone")

    loop, errors = ManualLoop(), []
    p = pollers(collect, lambda update: None, on_error=errors.append, loop=loop)
    p.start()
    wait_until(lambda: not p.running, what="the thread stopping")
    assert errors == []  # not from the poller's thread
    loop.run()
    assert [str(e) for e in errors] == ["the store is gone"] and len(calls) == 1


def test_an_error_in_collect_without_a_loop_is_logged(pollers, caplog):
    def collect():
        raise RuntimeError("the store is gone")

    with caplog.at_level(logging.ERROR, logger="wf_widgets.widgets"):
        p = pollers(collect, lambda update: None, loop=None)
        p.start()
        wait_until(lambda: not p.running, what="the thread stopping")
    (record,) = [r for r in caplog.records if r.exc_info]
    assert "test poller stopped" in record.getMessage() and str(record.exc_info[1]) == "the store is gone"


def test_an_error_in_apply_is_shown_and_polling_goes_on(pollers):
    counter, errors = Counter(), []

    def apply(n):
        raise ValueError(f"cannot show {n}")

    loop = ManualLoop()
    p = pollers(counter, apply, on_error=errors.append, loop=loop)
    p.start()
    wait_until(lambda: loop.pending, what="a hand-off")
    loop.run()
    assert len(errors) == 1 and str(errors[0]).startswith("cannot show ")
    wait_until(lambda: loop.pending, what="another hand-off")
    assert p.running
