"""The standalone mount: ``wf-widgets serve [--host HOST] [--port PORT] [--public-url URL]``.

Serves the home folder of ``WF_WIDGETS_HOME`` until Ctrl-C or SIGTERM, sweeping expired
results at start and hourly. It listens on 127.0.0.1 by default; binding any other address
exposes the server to the network, so it needs ``--public-url`` (the address the outside
world uses to reach it, which links then carry) given explicitly. While running it
registers itself (kind ``"standalone"``) so kernels sharing the home folder put its URL in
their links. Also runnable as ``python -m wf_widgets.server.standalone``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from typing import Sequence

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .. import _context
from .._context import BackendLike
from ..errors import ValidationError, WfError
from . import registry
from .routes import make_app
from .sweeper import start_sweeper

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
BACKLOG = 1024


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_host(host: str, public_url: str | None) -> None:
    if not is_loopback(host) and not public_url:
        raise ValidationError(
            f"Binding {host!r} makes the download server reachable from other machines; pass --public-url "
            "with the URL they use to reach it (e.g. --public-url https://data.example.org/wf-widgets), or "
            "leave --host at 127.0.0.1.", field="host", value=host)


def _local_url(host: str, port: int) -> str:
    if is_loopback(host):
        host = "127.0.0.1" if ":" not in host else "[::1]"
    elif ":" in host:
        host = f"[{host.strip('[]')}]"
    return f"http://{host}:{port}"


async def _serve(backend: BackendLike, host: str, port: int, public_url: str | None) -> None:
    sockets = bind_sockets(port, host, backlog=BACKLOG)
    port = sockets[0].getsockname()[1]
    server = HTTPServer(make_app(backend, "/", kind="standalone"))
    server.add_sockets(sockets)
    sweeper = start_sweeper(backend)
    url = (public_url or _local_url(host, port)).rstrip("/")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    path = registry.register(backend.settings, url, "standalone")
    try:
        print(f"wf_widgets: serving results of {backend.settings.home} on {_local_url(host, port)}"
              + (f" (links use {url})" if public_url else "") + "; Ctrl-C stops.", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        registry.unregister(path)
        sweeper.stop()
        server.stop()
        await server.close_all_connections()


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, public_url: str | None = None,
          backend: BackendLike | None = None) -> None:
    """Serve until SIGINT or SIGTERM.

    Parameters
    ----------
    host : str
        Address to bind; a non-loopback one needs ``public_url``.
    port : int
        0 picks a free port (read it from ``<home>/servers/<pid>.json`` or stderr).
    public_url : str, optional
        The URL others reach this server at; registered as the base of links.
    backend : BackendLike, optional
        Default: the current one (built from the environment); it sweeps when the server starts.

    Raises
    ------
    ValidationError
        A non-loopback ``host`` without ``public_url``.
    """
    _check_host(host, public_url)
    if backend is None:
        backend = _context.current()
    try:
        backend.ensure_swept()  # here, so a broken store stops the server with its clear error
        asyncio.run(_serve(backend, host, port, public_url))
    finally:
        backend.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``wf-widgets serve``: parse ``argv`` (without the program name) and serve; returns the exit status."""
    parser = argparse.ArgumentParser(prog="wf-widgets serve", description="Serve signed download links.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    parser.add_argument("--public-url", default=None,
                        help="URL others reach this server at; required when --host is not a loopback address")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        serve(args.host, args.port, args.public_url)
    except ValidationError as exc:
        print(f"wf-widgets serve: error: {exc}", file=sys.stderr)
        return 2
    except WfError as exc:  # a corrupted store, a full disk: the message says what to do
        print(f"wf-widgets serve: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # port in use, address not available
        print(f"wf-widgets serve: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
