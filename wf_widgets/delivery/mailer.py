"""The email of the email destination, sent over SMTP with the standard library.

``WF_WIDGETS_SMTP_URL`` configures the server:

- ``smtp://[user:password@]host[:port]`` (default port 25): STARTTLS when the server
  offers it, then login when credentials are given;
- ``smtps://[user:password@]host[:port]`` (default port 465): TLS from the start;
- user name and password are percent-decoded (``%40`` for ``@``); an optional
  ``?from=address`` sets the sender, else the user name if it is an address, else
  ``wf_widgets@<this host>``.

The message goes to ``WF_WIDGETS_EMAIL`` with the subject ``"Workflows: " + subject`` and a
text and an HTML part: the user's body, the download link, its expiry (UTC) and the warning
that anyone with the link can download the data. A failure (refused, authentication,
timeout, connection down) is retried (:data:`TRIES` attempts in all, waiting
:data:`BACKOFF_S`, then twice that, ...), then raised as :class:`~wf_widgets.errors.JobDestination`
naming the server and the reason; the stored result stays downloadable.

No header can carry a line break, whatever the Python version: ``normalize`` refuses
subjects with line breaks, control characters or RFC 2047 encoded words before a job
exists, and :func:`build_message` checks again whatever reaches it (a job row written by
other means, the configured addresses): messages use :data:`POLICY` (refusing CR and LF in
header values, and on Pythons that have it, checking every generated header), every
header is read back *decoded* after it is set and refused if it holds any line break
(:data:`~wf_widgets.outputs.registry.LINE_BREAKS`; an encoded word ``=?utf-8?q?=0D=0A?=``
decodes to CR LF), and the generated message is parsed again and must have exactly the
headers that were set. A failed check raises :class:`~wf_widgets.errors.JobDestination`
before anything is sent. The body only ever goes into the text and HTML parts.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import email.errors
import email.parser
import email.policy
import html
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from .._context import BackendLike
from ..errors import JobDestination, ValidationError
from ..outputs.registry import line_break
from .links import result_url

#: Attempts in all before the job fails.
TRIES = 3
#: Seconds before the first retry; doubled before each next one.
BACKOFF_S = 1.0
#: Socket timeout of every SMTP operation, in seconds.
TIMEOUT_S = 30.0

#: The policy of every message: the default (header values with CR or LF are refused when
#: set), plus ``verify_generated_headers`` on the Pythons that have it (3.13, and security
#: releases of older ones), which refuses to generate a header that would start a new line.
#: Every subject starts so (as the original service sent it).
SUBJECT_PREFIX = "Workflows: "
POLICY = email.policy.default.clone(
    **({"verify_generated_headers": True} if hasattr(email.policy.default, "verify_generated_headers") else {})
)

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


@dataclasses.dataclass(frozen=True)
class SmtpConfig:
    """A parsed ``WF_WIDGETS_SMTP_URL``."""

    ssl: bool
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str | None

    @property
    def where(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse ``smtp://`` or ``smtps://`` URLs (see the module doc)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValidationError(f"WF_WIDGETS_SMTP_URL must look like smtp://user:password@host:port or smtps://..., "
                              f"got {url!r}", field="smtp_url", value=url, allowed=("smtp://", "smtps://"))
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(f"WF_WIDGETS_SMTP_URL has a bad port: {url!r}", field="smtp_url", value=url) from None
    use_ssl = parts.scheme == "smtps"
    sender = parse_qs(parts.query).get("from", [None])[0]
    return SmtpConfig(ssl=use_ssl, host=parts.hostname, port=port or (465 if use_ssl else 25),
                      user=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password is not None else None,
                      sender=sender)


def sender_address(config: SmtpConfig) -> str:
    """The From address (see the module doc)."""
    if config.sender:
        return config.sender
    if config.user and "@" in config.user:
        return config.user
    return f"wf_widgets@{socket.gethostname() or 'localhost'}"


def human_utc(when: float) -> str:
    """``"Tuesday 12 March 2024, 14:03 UTC"`` (no locale involved)."""
    d = _dt.datetime.fromtimestamp(when, tz=_dt.timezone.utc)
    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[d.weekday()]
    return f"{day} {d.day} {_MONTHS[d.month - 1]} {d.year}, {d:%H:%M} UTC"


def build_message(backend: BackendLike, job: dict, expires: float, link: str, note: str | None = None) -> EmailMessage:
    """The message for ``job`` (a job row) whose stored result ``link`` serves until ``expires``."""
    settings = backend.settings
    destination = job["destination"]
    config = parse_smtp_url(settings.smtp_url)
    body = "\n".join((destination.get("body") or "").splitlines())  # any line ending -> LF
    when = human_utc(expires)
    fmt = job["format"]["type"]
    warning = "Anyone with the link can download the data, so share it only with people who may see it."
    text_lines = [body, "", f"Download the result ({fmt}): {link}", "",
                  f"The link expires on {when}.", warning]
    if note:
        text_lines.append(note)
    text_lines += ["", f"Job ID: {job['id']}"]
    esc = html.escape
    body_html = "<br>\n".join(esc(line) for line in body.splitlines()) or ""
    html_parts = [
        "<!DOCTYPE html><html><body>",
        f"<p>{body_html}</p>",
        f'<p><a href="{esc(link, quote=True)}">Download the result ({esc(fmt)})</a></p>',
        f"<p>The link expires on {esc(when)}.<br>\n{esc(warning)}</p>",
    ]
    if note:
        html_parts.append(f"<p>{esc(note)}</p>")
    html_parts += [f"<p style=\"color:#666\">Job ID: {esc(job['id'])}</p>", "</body></html>"]

    msg = EmailMessage(policy=POLICY)
    set_header(msg, "Subject", SUBJECT_PREFIX + destination.get("subject", ""))
    set_header(msg, "From", sender_address(config))
    set_header(msg, "To", settings.email)
    set_header(msg, "Date", formatdate(localtime=False, usegmt=True))
    set_header(msg, "Message-ID", make_msgid(domain=socket.gethostname() or None))
    msg.set_content("\n".join(text_lines) + "\n")
    msg.add_alternative("\n".join(html_parts) + "\n", subtype="html")
    check_generated(msg)
    return msg


def _refuse(name: str, value: Any, why: str) -> JobDestination:
    return JobDestination(f"Refusing to send the email: its {name} header {value!r} {why} (it could add "
                          "headers or replace the message); nothing was sent. The result is stored: use job.url "
                          "for its download link, or job.result_to_file(path).")


def set_header(msg: EmailMessage, name: str, value: str) -> None:
    """Set header ``name``, then read it back decoded and refuse any line break in it.

    Raises
    ------
    JobDestination
        The value holds a line break, as given or once decoded (RFC 2047 encoded words).
    """
    try:
        msg[name] = value
    except (ValueError, TypeError) as exc:  # the policy refuses CR and LF as given
        raise _refuse(name, value, f"was refused ({exc})") from exc
    for header in msg.get_all(name, ()):
        problem = line_break(str(header))
        if problem is not None:
            raise _refuse(name, str(header), f"holds {problem} once decoded")


def check_generated(msg: EmailMessage) -> None:
    """Generate ``msg`` as it will be sent, parse it again, and check nothing got into the headers.

    Raises
    ------
    JobDestination
        The generated message has other headers than the ones set (an injected header or
        a header ending the header block early), or a header value with a line break.
    """
    try:
        raw = msg.as_bytes(policy=POLICY.clone(linesep="\r\n"))
    except (email.errors.MessageError, ValueError) as exc:  # HeaderWriteError (verify_generated_headers)
        raise JobDestination(f"Refusing to send the email: it could not be generated safely ({exc}); "
                             "nothing was sent.") from exc
    parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)
    expected = [name.lower() for name in msg.keys()]
    got = [name.lower() for name in parsed.keys()]
    if got != expected:
        raise JobDestination(f"Refusing to send the email: the generated message has the headers {got}, "
                             f"not the ones set ({expected}); nothing was sent.")
    for name, value in parsed.items():
        problem = line_break(str(value))
        if problem is not None:
            raise _refuse(name, str(value), f"holds {problem} once generated")


def _send_once(config: SmtpConfig, msg: EmailMessage, timeout: float) -> None:
    context = ssl.create_default_context()
    if config.ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=timeout)
    try:
        client.ehlo()
        if not config.ssl and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if config.user:
            client.login(config.user, config.password or "")
        client.send_message(msg)
    finally:
        try:
            client.quit()  # the message is accepted once send_message returns; a failing QUIT is no failure
        except (smtplib.SMTPException, OSError):
            client.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return f"recipient refused ({code} {text.decode(errors='replace') if isinstance(text, bytes) else text})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication failed ({exc.smtp_code} {exc.smtp_error.decode(errors='replace')})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the SMTP server running?)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection ({exc})" if str(exc) else "the server closed the connection"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def send(backend: BackendLike, msg: EmailMessage, *, tries: int | None = None, backoff_s: float | None = None,
         timeout: float | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """Send ``msg`` to the configured server, retrying; raise JobDestination when all tries fail.

    Parameters
    ----------
    backend : Backend
    msg : EmailMessage
    tries, backoff_s, timeout : optional
        Default :data:`TRIES`, :data:`BACKOFF_S`, :data:`TIMEOUT_S` (read at call time, so
        tests may set the module attributes).
    sleep : callable
        Waits between tries.
    """
    tries = TRIES if tries is None else tries
    backoff_s = BACKOFF_S if backoff_s is None else backoff_s
    timeout = TIMEOUT_S if timeout is None else timeout
    config = parse_smtp_url(backend.settings.smtp_url)
    last: BaseException | None = None
    for attempt in range(tries):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            _send_once(config, msg, timeout)
            return
        except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, unreachable, timeout, TLS
            last = exc
    raise JobDestination(
        f"Could not send the email to {backend.settings.email} through the SMTP server {config.where} "
        f"({tries} tries): {_reason(last)}. The result is stored: use job.url for its download link, "
        "or job.result_to_file(path)."
    ) from last


def send_result_email(backend: BackendLike, job: dict, expires: float) -> None:
    """Email the link of ``job``'s stored result (called by the email destination's deliver).

    The link's base URL (and the note that it only works while the launching kernel runs,
    if so) were resolved where the job was launched and stored in its row: a worker never
    looks for, or starts, a server.

    Parameters
    ----------
    backend : BackendLike
    job : dict
        The job row (id, format, destination with subject and body, link_base, link_note).
    expires : float
        Unix time the stored result expires.

    Raises
    ------
    JobDestination
        When the row has no link base, or the message could not be sent after :data:`TRIES`
        attempts.
    """
    base = job.get("link_base") or backend.settings.public_url
    if not base:
        raise JobDestination(f"Job {job['id']} has no base URL for its link (it is resolved where the job is "
                             "launched); set WF_WIDGETS_PUBLIC_URL")
    link = result_url(backend.signer, base, job["id"], expires)
    msg = build_message(backend, job, expires, link, note=job.get("link_note"))
    send(backend, msg)
