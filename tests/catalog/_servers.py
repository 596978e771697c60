"""Small HTTP servers of the import tests, on 127.0.0.1: static files (with Range), a minimal STAC API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
from typing import Iterator

import tornado.httpserver
import tornado.web

from wf_widgets.server.testing import fetch, free_port, wait_for


@contextlib.contextmanager
def serve(handlers: list) -> Iterator[str]:
    """Run a tornado app of ``handlers`` on a thread; yields its base URL (``http://127.0.0.1:<port>``)."""
    port = free_port()
    started = threading.Event()
    box: dict = {}

    def run() -> None:
        async def main() -> None:
            server = tornado.httpserver.HTTPServer(tornado.web.Application(handlers))
            server.listen(port, address="127.0.0.1")
            box["stop"] = asyncio.Event()
            box["loop"] = asyncio.get_running_loop()
            started.set()
            await box["stop"].wait()
            server.stop()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30), "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(30)


#: A tornado server of static files (StaticFileHandler answers Range requests), run in a process of its own.
_STATIC = """
import asyncio, sys
import tornado.web
async def main():
    app = tornado.web.Application([(r"/files/(.*)", tornado.web.StaticFileHandler, {"path": sys.argv[1]})])
    app.listen(int(sys.argv[2]), address="127.0.0.1")
    await asyncio.Event().wait()
asyncio.run(main())
"""


@contextlib.contextmanager
def serve_files(folder) -> Iterator[str]:
    """Serve ``folder`` under ``<base>/files/`` from another process; yields the base URL.

    Another process, not a thread: GDAL's ``/vsicurl/`` reads in this process would wait for a
    server thread that waits for the GIL they hold.
    """
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _STATIC, str(folder), str(port)], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            try:
                fetch(base + "/files/", timeout=1)
            except OSError:
                return proc.poll() is not None  # ended: stop waiting (the assert below says so)
            return True
        wait_for(up, timeout=30)
        assert proc.poll() is None, "the file server did not start"
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


class _Json(tornado.web.RequestHandler):
    def initialize(self, api: "StacApi") -> None:
        self.api = api

    def send(self, doc: dict) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(doc))


class _Landing(_Json):
    def get(self) -> None:
        self.send(self.api.landing(self.request.protocol + "://" + self.request.host))


class _Search(_Json):
    def get(self) -> None:
        wanted = self.get_argument("collections", "")
        self.send(self.api.search(wanted.split(",") if wanted else None))

    def post(self) -> None:
        body = json.loads(self.request.body or b"{}")
        self.send(self.api.search(body.get("collections")))


class StacApi:
    """A minimal STAC API (landing page, conformance, item search without paging) over item dicts."""

    CONFORMS = ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"]

    def __init__(self, items: list[dict]):
        self.items = items
        self.searches: list[list[str] | None] = []

    def landing(self, base: str) -> dict:
        return {"type": "Catalog", "id": "test-api", "description": "test", "stac_version": "1.0.0",
                "conformsTo": self.CONFORMS,
                "links": [{"rel": "self", "href": base + "/", "type": "application/json"},
                          {"rel": "root", "href": base + "/", "type": "application/json"},
                          {"rel": "search", "href": base + "/search", "type": "application/geo+json",
                           "method": "GET"},
                          {"rel": "search", "href": base + "/search", "type": "application/geo+json",
                           "method": "POST"}]}

    def search(self, collections: list[str] | None) -> dict:
        self.searches.append(collections)
        found = [i for i in self.items if collections is None or i.get("collection") in collections]
        return {"type": "FeatureCollection", "features": found, "links": []}

    def handlers(self) -> list:
        return [(r"/", _Landing, {"api": self}), (r"/search", _Search, {"api": self})]
