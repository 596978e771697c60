"""The handlers of signed result downloads and health, and what every handler shares.

The routes (these, and the tiles of :mod:`~wf_widgets.server.tiles`) are assembled by
:mod:`~wf_widgets.server.routes`, served standalone, in Jupyter and in a kernel thread.

``/results`` needs no login: the signature is the authorisation ("anyone with the link").
No part of a request ever becomes a file-system path: the id must be a well-formed job id,
and the file is found through the job's row. Nothing lists results: ``results/`` is 404.

Answers, each with a short plain-text message: 404 for a malformed or unknown id or a job
without a stored result; 403 for a missing or wrong signature (checked before the job is
looked up, so a bad link learns nothing about which ids exist); 410 once the link's
``expires`` or the row's expiry (on :meth:`Settings.time`, the movable clock) has passed, or
the result was deleted, or its owner revoked the job's links (``link_revoked`` in the row,
read with the row by its primary key on every request, so a revocation holds at once in every
server sharing the store; a renewed expiry, likewise); 410 saying the result is *missing* or *damaged* (not expired) when
its file is gone, or its size differs from the one recorded when it was written, before its
expiry (the job is then marked, see :mod:`wf_widgets.delivery.results`); 416 for an
unsatisfiable range, including a range starting at an absurdly large number.

Logs and error bodies: a link's query string carries its signature (a usable credential),
so no log line of these handlers contains it: the access log, uncaught-exception logs and
the summaries tornado or Jupyter write all see the path only. An unexpected exception
answers ``500 Internal Server Error`` and nothing of the exception's text.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from typing import Any, Callable

import tornado.web
from tornado.iostream import StreamClosedError
from tornado.log import app_log, gen_log

from .._context import BackendLike
from ..delivery.results import valid_job_id
from ..errors import ResultExpired, ResultMissing
from ..storage import CHUNK_SIZE
from .ranges import Unsatisfiable, parse_range

log = logging.getLogger("wf_widgets.server")


def public(method: Callable) -> Callable:
    """Mark a handler method as needing no login.

    Sets the attribute jupyter_server's ``allow_unauthenticated`` sets, without importing
    jupyter_server, so the same handler classes serve all three mounts and Jupyter's
    start-up check finds them explicitly public.
    """
    setattr(method, "__allow_unauthenticated", True)
    return method


class BaseHandler(tornado.web.RequestHandler):
    """Plain-text errors, no caching by default, no compression, no framework ETag."""

    def initialize(self, backend: BackendLike, kind: str) -> None:
        self.backend = backend
        self.kind = kind

    def prepare(self) -> None:
        # Never let an output transform (gzip) alter a body whose Content-Length and
        # Content-Range we compute ourselves.
        self._transforms = []

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")  # links carry their signature
        self.set_header("Cache-Control", "no-store")

    def compute_etag(self) -> str | None:
        return None

    def fail(self, status: int, message: str) -> None:
        """Finish with ``status`` and a plain-text ``message``."""
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(message + "\n")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # The status line only: never the text of the exception (nor a traceback).
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")

    # -- logs see the path, never the query string (a link's signature) ----------------------
    def _request_summary(self) -> str:
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        """Log like tornado, but with the path only (tornado logs the URI and the request's repr)."""
        if isinstance(value, tornado.web.HTTPError):
            if value.log_message:
                gen_log.warning("%d %s: " + value.log_message, value.status_code, self._request_summary(),
                                *value.args)
        else:
            app_log.error("Uncaught exception %s", self._request_summary(), exc_info=(typ, value, tb))

    def _log(self) -> None:
        # Whatever access log the application has (ours, Jupyter's) reads request.uri:
        # the request is complete, so drop its query before it is logged.
        self.request.uri = self.request.path
        super()._log()


class NotFoundHandler(BaseHandler):
    """Every path no route matches."""

    @public
    def get(self, *args: Any) -> None:
        self.fail(404, "Not found.")

    head = get


class HealthHandler(BaseHandler):
    """``GET health``: whether this server runs, and which mount it is."""

    @public
    def get(self) -> None:
        # The map's probe fetches this from the notebook's origin: allow any origin.
        self.set_header("Access-Control-Allow-Origin", "*")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": True, "kind": self.kind, "pid": os.getpid()}))


class ResultHandler(BaseHandler):
    """``GET|HEAD results/<job id>?expires=<unix>&signature=<hex>``: a stored result."""

    @public
    async def get(self, job_id: str) -> None:
        await self._serve(job_id, send_body=True)

    @public
    async def head(self, job_id: str) -> None:
        await self._serve(job_id, send_body=False)

    def _expired(self, when: float) -> None:
        days = self.backend.settings.retention_days
        date = _dt.datetime.fromtimestamp(when, tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        self.fail(410, f"This link expired on {date}; results are kept {days:g} days after their job "
                       "completes. Compute the result again for a new link.")

    async def _serve(self, job_id: str, send_body: bool) -> None:
        if not valid_job_id(job_id):
            return self.fail(404, "Not found.")
        expires = self.get_query_argument("expires", None)
        signature = self.get_query_argument("signature", None)
        kid = self.get_query_argument("kid", None)  # the key's id (links signed with a database's keys)
        if expires is None or signature is None or not self.backend.signer.verify(job_id, expires, signature, kid):
            return self.fail(403, "This link is not valid: its signature does not match. "
                                  "Use the exact link you were given.")
        now = self.backend.settings.time()
        if int(expires) <= now:
            return self._expired(int(expires))
        # One read of the row by its primary key, without the graph (nor its blob files): the signature,
        # the revocation, the expiry and where the result is are all the request needs.
        row = self.backend.jobs.get(job_id, graph=False)
        if row is None:
            return self.fail(404, "Not found.")
        if row.get("link_revoked"):  # the owner revoked it (Job.revoke_link): read from the row on every request
            return self.fail(410, "This link was revoked by the owner of the result; it no longer works. "
                                  "Ask them for a new one.")
        if row["result_deleted"] and row.get("result_problem"):  # lost before its expiry
            return self.fail(410, row["result_problem"])
        if row["result_deleted"] or (row["expires"] is not None and row["expires"] <= now):
            return self._expired(row["expires"] or now)
        if not row["result_path"]:
            return self.fail(404, f"Job {job_id} has no stored result (it is {row['stage']}).")
        try:
            # A stat (a HEAD request on S3) against the size the row recorded (no checksum per request).
            served = await self.backend.results.serve(self.backend.jobs, row)
        except ResultMissing as exc:  # missing or damaged before its expiry: the row is now marked
            return self.fail(410, str(exc))
        except ResultExpired:  # expired by a sweeper meanwhile
            return self._expired(row["expires"] or now)
        except ValueError:  # a row that names no stored result
            return self.fail(410, f"The stored result of job {job_id} is missing. Compute the result again.")
        try:
            await self._send(served, row["result_mimetype"] or "application/octet-stream", send_body)
        finally:
            served.close()

    async def _send(self, served: Any, mimetype: str, send_body: bool) -> None:
        size, etag, name = served.size, served.etag, served.name
        self.set_header("ETag", etag)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Cache-Control", "private, no-cache")
        inm = self.request.headers.get("If-None-Match")
        if inm is not None and (inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]):
            self.set_status(304)
            return self.finish()
        range_header = self.request.headers.get("Range")
        if_range = self.request.headers.get("If-Range")
        if if_range is not None and if_range.strip() != etag:
            range_header = None  # the client's copy is stale: send it all
        try:
            span = parse_range(range_header, size)
        except Unsatisfiable:
            self.set_header("Content-Range", f"bytes */{size}")
            return self.fail(416, f"The requested range is outside the {size} bytes of this result.")
        start, end = span if span is not None else (0, size)
        if span is not None:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.set_header("Content-Type", mimetype)
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.set_header("Content-Length", end - start)
        if not send_body:
            return self.finish()
        try:
            async for chunk in served.chunks(start, end, CHUNK_SIZE):
                self.write(chunk)
                await self.flush()
            self.finish()
        except StreamClosedError:  # the client went away
            pass


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Access log without the query string: a logged signature would be a usable link."""
    status = handler.get_status()
    # Refused links are normal traffic (INFO); only server errors warn, so a kernel's
    # thread server never prints a line into the notebook for a bad link.
    level = logging.INFO if status < 500 else logging.WARNING
    request = handler.request
    log.log(level, "%d %s %s %.1fms", status, request.method, request.path, 1000.0 * request.request_time())


def normalize_base_path(base_path: str) -> str:
    """``base_path`` with exactly one leading and one trailing slash (``"/"`` for the root)."""
    inner = base_path.strip("/")
    return f"/{inner}/" if inner else "/"
