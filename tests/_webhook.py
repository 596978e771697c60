"""A real webhook receiver for tests: a tornado server on 127.0.0.1, in a thread with its own loop.

It checks each request's signature (``X-WF-Widgets-Signature`` over the timestamp and body,
with the secret it is given) and answers from a plan: a status code, or ``"hang"`` (never
answers, until the receiver stops).
"""

from __future__ import annotations

import asyncio
import json
import threading

import tornado.httpserver
import tornado.netutil
import tornado.web

from wf_widgets.delivery.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


class _Hook(tornado.web.RequestHandler):
    async def post(self) -> None:
        receiver: Receiver = self.application.settings["receiver"]
        body = self.request.body
        timestamp = self.request.headers.get(TIMESTAMP_HEADER, "")
        signature = self.request.headers.get(SIGNATURE_HEADER, "")
        action = receiver.plan.pop(0) if receiver.plan else 200
        receiver.requests.append({
            "path": self.request.path, "headers": dict(self.request.headers), "body": body,
            "event": json.loads(body), "verified": verify(receiver.secret, timestamp, body, signature),
            "answer": action})
        if action == "hang":
            await receiver._stopping.wait()
            return
        self.set_status(action)
        self.finish("ok")


class Receiver:
    """Start with :meth:`start`; ``requests`` holds what came (``event``, ``verified``, ``headers``, ``answer``)."""

    def __init__(self, secret: str = "", plan: list | None = None):
        self.secret = secret
        self.plan = list(plan or [])
        self.requests: list[dict] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._stopping = asyncio.Event()
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/hook", _Hook)], receiver=self))
        server.add_sockets(sockets)
        self._ready.set()
        loop.run_until_complete(self._stopping.wait())
        server.stop()
        loop.run_until_complete(asyncio.sleep(0.05))  # let hanging handlers return
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)
