"""The sweeper of running servers: what is due (retries, notifications) between its hourly sweeps."""

from __future__ import annotations

import asyncio
import threading
import time

import wf_widgets as wf
from tests._webhook import Receiver
from wf_widgets.server import sweeper
from wf_widgets.server.sweeper import start_sweeper


def test_the_sweeper_runs_due_retries_and_notifications_between_sweeps(make_backend, monkeypatch):
    monkeypatch.setattr(sweeper, "DUE_EVERY_S", 0.05)
    backend = make_backend(webhook_allow="127.0.0.1")
    receiver = Receiver().start()
    store = backend.jobs
    try:
        row = store.create("e" * 48, kind="Int", graph=(wf.Int(20) + 1).to_json(), geoctx=None,
                           format={"type": "json"}, destination={"type": "download"}, retries=1,
                           notify={"webhook": receiver.url, "email": False})
        # A process queued its next attempt and died: nobody's row, due now.
        assert store.requeue(row["id"], "TRANSIENT", "busy", backend.settings.time(), attempts=1)
        calls = []
        real_sweep = backend.sweep
        monkeypatch.setattr(backend, "sweep", lambda *a, **k: calls.append("sweep") or real_sweep(*a, **k))

        async def main():
            callback = start_sweeper(backend, interval_s=3600)
            try:
                for _ in range(600):  # poll with a deadline (30 s)
                    if receiver.requests:
                        return True
                    await asyncio.sleep(0.05)
                return False
            finally:
                callback.stop()

        assert asyncio.run(main())
        assert calls == []  # not an hourly sweep: what was due only
        [request] = receiver.requests
        assert (request["event"]["stage"], request["event"]["attempt_codes"]) == ("SUCCEEDED", ["TRANSIENT", "NONE"])
        assert wf.Job.get(row["id"]).result(timeout=30) == b"21"
    finally:
        receiver.stop()


def test_stopping_the_sweeper_waits_for_a_sweep_in_progress(make_backend, monkeypatch):
    monkeypatch.setattr(sweeper, "DUE_EVERY_S", 0.01)
    backend = make_backend()
    began, ended = threading.Event(), threading.Event()

    def slow_due():
        began.set()
        time.sleep(0.5)
        ended.set()
        return {"retried": 0, "notified": 0}

    monkeypatch.setattr(backend, "sweep_due", slow_due)

    async def main():
        callback = start_sweeper(backend, interval_s=3600)
        while not began.is_set():
            await asyncio.sleep(0.01)
        callback.stop()
        return ended.is_set()

    assert asyncio.run(main())  # stop() returned after the sweep in progress ended
