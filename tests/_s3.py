"""A real S3-compatible server for the tests: moto's S3 API on 127.0.0.1, counting what it serves."""

from __future__ import annotations

import threading
import urllib.request
import uuid
from typing import Any, Iterable, NamedTuple

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from wf_widgets.server.testing import free_port

from ._environ import point_environ, restore_environ

#: The bucket every test uses (each under a prefix of its own).
BUCKET = "wf-test"


class Served(NamedTuple):
    """One request the server answered: method, path, Range header, status and body bytes sent."""

    method: str
    path: str
    range: str | None
    status: int
    sent: int


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no line per request on stderr
        pass


class S3Server(ThreadedMotoServer):
    """``ThreadedMotoServer`` on 127.0.0.1 whose app records every request it serves (:attr:`served`)."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=free_port(), verbose=False)
        self.endpoint = f"http://127.0.0.1:{self._port}"
        self.served: list[Served] = []
        self._lock = threading.Lock()

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._ip_address, self._port, self._counting(app), True,
                                   request_handler=_QuietHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    def _counting(self, app: Any) -> Any:
        def counted(environ: dict, start_response: Any) -> Iterable[bytes]:
            status: list[int] = []

            def start(line: str, headers: Any, *exc: Any) -> Any:
                status.append(int(line.split()[0]))
                return start_response(line, headers, *exc)

            body = app(environ, start)
            sent = 0
            try:
                for chunk in body:
                    sent += len(chunk)
                    yield chunk
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
                with self._lock:
                    self.served.append(Served(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                              environ.get("HTTP_RANGE"), status[0] if status else 0, sent))

        return counted

    def environ(self) -> dict[str, str]:
        """The AWS variables pointing a client at this server (dummy credentials)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1"}

    def make_bucket(self, bucket: str = BUCKET) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT"), timeout=30).close()

    def new_url(self) -> str:
        """``s3://`` URL of a fresh prefix in :data:`BUCKET`."""
        return f"s3://{BUCKET}/{uuid.uuid4().hex}"

    def requests_for(self, key_suffix: str) -> list[Served]:
        """The GET and HEAD requests served for objects whose path ends with ``key_suffix``."""
        with self._lock:
            return [r for r in self.served if r.path.endswith(key_suffix) and r.method in ("GET", "HEAD")]


def start_s3() -> tuple[S3Server, dict[str, str | None]]:
    """Start a server, make :data:`BUCKET` and point ``os.environ`` at it; returns it and the variables replaced."""
    server = S3Server()
    server.start()
    server.make_bucket()
    return server, point_environ(server.environ())


def stop_s3(server: S3Server, saved: dict[str, str | None]) -> None:
    restore_environ(saved)
    server.stop()
