"""Small helpers for tests and benchmarks of the servers (standard library only).

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import dataclasses
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Mapping


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05,
              what: str = "a condition") -> Any:
    """Poll ``predicate()`` until it returns a truthy value (returned) or ``timeout`` passes.

    Exceptions from ``predicate`` count as "not yet"; the last one is chained to the
    TimeoutError raised at the deadline.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Timed out after {timeout} s waiting for {what}") from last
        time.sleep(interval)


# No proxies: an http_proxy variable must never route loopback traffic elsewhere.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclasses.dataclass
class Response:
    """What :func:`fetch` returns."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def fetch(url: str, method: str = "GET", headers: Mapping[str, str] | None = None, timeout: float = 30.0,
          data: bytes | None = None) -> Response:
    """One HTTP request with urllib (``data``: its body); error statuses are returned, not raised."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}), data=data)
    try:
        with _opener.open(request, timeout=timeout) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, err.headers, err.read())
