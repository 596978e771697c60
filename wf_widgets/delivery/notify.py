"""Notifications when a job ends for good: a signed webhook, an email of its outcome.

``compute(..., notify={"webhook": "https://example.org/hook", "email": True})``. Not a
destination: any destination may notify, and the notification goes out whatever the outcome
(SUCCEEDED, FAILED, CANCELLED).

Decisions
---------
- Normal form (:func:`normalize_notify`, stored in the job's row): ``{"webhook": url or None,
  "email": bool}``; None when nothing is asked. It is checked before a job exists: the keys,
  the URL (``http``/``https``, a host that resolves, and no loopback, link-local, private or
  otherwise non-global address unless ``WF_WIDGETS_WEBHOOK_ALLOW`` lists the host or a
  network holding it), and for email the user's address and the SMTP server.
- Once, at the final terminal state: the statement that ends the job for good also marks its
  notification due (``notify_state`` PENDING; a job with retries left is not ended by a
  failed attempt, so nothing is sent between attempts). A sender takes it with one
  conditional statement (:meth:`~wf_widgets.jobs.store.JobStore.claim_notification`, a lease
  of :data:`LEASE_S`), sends, and records SENT, FAILED or PENDING again later.
- Who sends: a daemon thread of the process that ended the job (:func:`dispatch`), started
  after the row ended, so the job's own result never waits for a receiver. Whatever is left
  when that process ends (or its thread stops waiting) goes out with the next sweep of any
  process (:func:`deliver_due`: ``wf-widgets sweep``, running servers, launches).
- Redelivery: a webhook answering other than 2xx, unreachable, or not answering within
  :data:`TIMEOUT_S` is sent again after ``webhook_backoff_s`` (doubled each time, at most
  :data:`MAX_BACKOFF_S`), :data:`MAX_ATTEMPTS` deliveries in all, then FAILED (``notify_error``
  says why). A receiver can get an event twice (a sender killed after sending but before
  recording it): ``X-WF-Widgets-Delivery`` (the job id) lets it drop repeats. The email goes
  with the first delivery only (the mailer retries on its own).
- Signature: ``X-WF-Widgets-Timestamp`` (unix seconds) and ``X-WF-Widgets-Signature:
  sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>." + body`` with the webhook secret:
  ``WF_WIDGETS_WEBHOOK_SECRET`` when set, else the launching user's own (random, made at its
  first use, kept in the job store; ``wf-widgets webhook-secret [--rotate]``). Never the key
  that signs download links.
- Addresses are checked again when sending, and the connection goes to the address checked
  (no second lookup a DNS answer could change in between).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

from .._context import BackendLike
from ..config import Settings
from ..errors import ValidationError, ValidationTypeError
from .links import result_url
from .mailer import POLICY, SUBJECT_PREFIX, check_generated, human_utc, parse_smtp_url, send, sender_address, set_header

log = logging.getLogger("wf_widgets.notify")

#: The keys of ``notify=``.
KEYS = ("webhook", "email")
#: Schemes a webhook URL may have.
SCHEMES = ("http", "https")
#: Seconds a webhook receiver has to connect and answer (each socket operation).
TIMEOUT_S = 10.0
#: Deliveries of one notification in all, the first included.
MAX_ATTEMPTS = 8
#: Most seconds between two deliveries.
MAX_BACKOFF_S = 3600.0
#: Seconds a sender holds a notification it claimed (past them, another may send it).
LEASE_S = 300.0
#: Most seconds the sending thread of a process waits for a redelivery; longer waits are left to sweeps.
DISPATCH_WAIT_S = 600.0
#: The headers of a webhook's request.
SIGNATURE_HEADER = "X-WF-Widgets-Signature"
TIMESTAMP_HEADER = "X-WF-Widgets-Timestamp"
DELIVERY_HEADER = "X-WF-Widgets-Delivery"
EVENT_HEADER = "X-WF-Widgets-Event"
#: The ``event`` of the JSON body.
EVENT = "job.finished"


class WebhookRefused(Exception):
    """The webhook's address is not allowed (found when sending): not retried."""


# -- validation -------------------------------------------------------------------------------
def allowed(settings: Settings) -> tuple[frozenset[str], tuple[Any, ...]]:
    """The hosts and networks of ``WF_WIDGETS_WEBHOOK_ALLOW`` (hosts lower-cased)."""
    hosts, nets = set(), []
    for item in (settings.webhook_allow or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.lower().strip("[]"))
    return frozenset(hosts), tuple(nets)


def _public(address: str, nets: tuple[Any, ...]) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if any(ip in net for net in nets if net.version == ip.version):
        return True
    return ip.is_global and not ip.is_multicast


def resolve(url: str, settings: Settings, field: str = "notify.webhook") -> tuple[str, int, str]:
    """Check a webhook URL and resolve its host; returns ``(host, port, address to connect to)``.

    Raises
    ------
    ValidationError
        Not an http(s) URL with a host; the host does not resolve; or it resolves to a
        loopback, link-local, private or other non-global address the allow list does not hold.
    """
    if not isinstance(url, str):
        raise ValidationTypeError(f"{field} must be a URL (str), got {type(url).__name__} {url!r}", field=field,
                                  value=url)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise ValidationError(f"{field} must be an http:// or https:// URL with a host, got {url!r}", field=field,
                              value=url, allowed=SCHEMES)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise ValidationError(f"{field} has a bad port: {url!r}", field=field, value=url) from None
    host = parts.hostname.lower()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError(f"{field}: the host of {url!r} does not resolve ({exc})", field=field,
                              value=url) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    hosts, nets = allowed(settings)
    if host not in hosts:
        bad = [a for a in addresses if not _public(a, nets)]
        if bad:
            raise ValidationError(
                f"{field} {url!r} resolves to {bad[0]}, a loopback, link-local or private address; webhooks reach "
                "such addresses only when WF_WIDGETS_WEBHOOK_ALLOW lists the host or a network holding it "
                "(hosts or CIDRs, comma-separated, e.g. WF_WIDGETS_WEBHOOK_ALLOW=10.0.0.0/8,hooks.internal)",
                field=field, value=url)
    return host, port, addresses[0]


def normalize_notify(notify: object, backend: BackendLike) -> dict | None:
    """The normal form of ``compute(notify=...)``, checked (its own output is accepted); None for nothing.

    Parameters
    ----------
    notify : dict or None
        ``{"webhook": "https://...", "email": True}``, either key optional.
    backend : BackendLike
        Its settings: the allow list, the email configuration.

    Raises
    ------
    ValidationError
        An unknown key, a bad or refused URL, a non-bool ``email``, email not configured.
    """
    if notify is None or notify is False:
        return None
    if not isinstance(notify, dict):
        raise ValidationTypeError(
            f"notify must be a dict such as {{'webhook': 'https://...', 'email': True}} or None, got "
            f"{type(notify).__name__} {notify!r}", field="notify", value=notify, allowed=KEYS)
    for key in notify:
        if key not in KEYS:
            raise ValidationError.bad_value("notify", key, KEYS, what="key")
    webhook, email = notify.get("webhook"), notify.get("email", False)
    if webhook is not None:
        webhook = webhook.strip() if isinstance(webhook, str) else webhook
        resolve(webhook, backend.settings)
    if not isinstance(email, bool):
        raise ValidationTypeError(f"notify.email must be True or False, got {email!r}", field="notify.email",
                                  value=email, allowed=(True, False))
    if email:
        settings = backend.settings
        missing = [name for name, val in (("WF_WIDGETS_EMAIL", settings.email), ("WF_WIDGETS_SMTP_URL",
                                                                                  settings.smtp_url)) if not val]
        if missing:
            raise ValidationError("notify.email needs " + " and ".join(missing) + " to be set (environment "
                                  "variables, or email/smtp_url in the config file)", field="notify.email",
                                  value=True)
    if not webhook and not email:
        return None
    return {"webhook": webhook or None, "email": email}


# -- the event and its signature -----------------------------------------------------------------
def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return _dt.datetime.fromtimestamp(when, tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def result_link(backend: BackendLike, row: dict) -> str | None:
    """The signed link of the job's stored result, or the URL its destination recorded; None if neither."""
    if row.get("result_path") and row.get("expires") is not None and not row.get("result_deleted"):
        base = row.get("link_base") or backend.settings.public_url
        if base:
            return result_url(backend.signer, base, row["id"], row["expires"])
    ref = row.get("result_ref")
    return ref.get("url") if isinstance(ref, dict) and isinstance(ref.get("url"), str) else None


def event(backend: BackendLike, row: dict) -> dict:
    """The JSON event of a job that ended for good (a job row without its graph)."""
    return {
        "event": EVENT,
        "job_id": row["id"],
        "stage": row["stage"],
        "error_code": row.get("error_code") or "NONE",
        "error_message": row.get("error_message"),
        "url": result_link(backend, row),
        "expires": _iso(row.get("expires")),
        "tile_key": row.get("label"),
        "destination": (row.get("destination") or {}).get("type"),
        "format": (row.get("format") or {}).get("type"),
        "result": row.get("result_ref"),
        "attempts": row.get("attempts", 1),
        "attempt_codes": row.get("attempt_codes") or [],
        "finished": _iso(row.get("finished")),
    }


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-WF-Widgets-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None,
           tolerance_s: float = 300.0) -> bool:
    """Whether ``signature`` signs ``body`` at ``timestamp`` (within ``tolerance_s`` of ``now``): a receiver's check."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def webhook_secret(backend: BackendLike, owner: str | None = None) -> str:
    """The secret webhooks of ``owner`` (default: the backend's user) are signed with (see the module doc)."""
    if backend.settings.webhook_secret:
        return backend.settings.webhook_secret
    return backend.jobs.webhook_secret(owner or backend.settings.user)


# -- sending ---------------------------------------------------------------------------------------
def post(url: str, body: bytes, headers: dict[str, str], settings: Settings, timeout: float | None = None) -> int:
    """POST ``body`` to ``url`` (address checked again, and connected to); returns the HTTP status.

    Raises
    ------
    WebhookRefused
        The URL's address is not allowed (any more).
    OSError, http.client.HTTPException
        Unreachable, timed out, a broken answer.
    """
    try:
        host, port, address = resolve(url, settings)
    except ValidationError as exc:
        if "does not resolve" in str(exc):
            raise OSError(str(exc)) from None  # DNS may come back: retried
        raise WebhookRefused(str(exc)) from None
    parts = urlsplit(url.strip())
    timeout = TIMEOUT_S if timeout is None else timeout
    cls = http.client.HTTPSConnection if parts.scheme.lower() == "https" else http.client.HTTPConnection
    conn = cls(host, port, timeout=timeout)
    # Connect to the address just checked; TLS still checks the certificate against the host name.
    conn._create_connection = lambda addr, tmo=None, src=None: socket.create_connection((address, port), tmo, src)
    try:
        conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]})
        response = conn.getresponse()
        response.read(65536)
        return response.status
    finally:
        conn.close()


def send_webhook(backend: BackendLike, row: dict) -> None:
    """POST the job's signed event to its webhook; raises unless answered with 2xx."""
    body = json.dumps(event(backend, row), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "wf-widgets-webhook",
               TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(webhook_secret(backend, row.get("owner")),
                                                                   timestamp, body),
               DELIVERY_HEADER: row["id"], EVENT_HEADER: EVENT}
    status = post(row["notify"]["webhook"], body, headers, backend.settings)
    if not 200 <= status < 300:
        raise OSError(f"the webhook answered HTTP {status}")


def outcome_message(backend: BackendLike, row: dict) -> EmailMessage:
    """The email telling the job's outcome (to its owner's address)."""
    info = event(backend, row)
    to = row.get("owner_email") or backend.settings.email
    lines = [f"Job {row['id']} ended: {row['stage']}."]
    if row["stage"] == "FAILED":
        lines.append(f"Error {info['error_code']}: {info['error_message']}")
    if info["tile_key"]:
        lines.append(f"Tile: {info['tile_key']}")
    if info["url"]:
        lines.append(f"Result: {info['url']}")
    if row.get("expires") is not None and row.get("result_path"):
        lines.append(f"The link expires on {human_utc(row['expires'])}; anyone with it can download the data.")
    if info["attempts"] > 1:
        lines.append(f"Attempts: {info['attempts']} ({', '.join(info['attempt_codes'])})")
    msg = EmailMessage(policy=POLICY)
    set_header(msg, "Subject", f"{SUBJECT_PREFIX}job {row['id'][12:20]} {row['stage']}")
    set_header(msg, "From", sender_address(parse_smtp_url(backend.settings.smtp_url)))
    set_header(msg, "To", to)
    set_header(msg, "Date", formatdate(localtime=False, usegmt=True))
    set_header(msg, "Message-ID", make_msgid(domain=socket.gethostname() or None))
    msg.set_content("\n".join(lines) + "\n")
    check_generated(msg)
    return msg


def backoff(settings: Settings, attempt: int) -> float:
    """Seconds before the delivery after number ``attempt``."""
    return min(settings.webhook_backoff_s * 2 ** max(attempt - 1, 0), MAX_BACKOFF_S)


def deliver(backend: BackendLike, job_id: str) -> str | None:
    """Send the job's notification if it is due, once; returns its state after (SENT, PENDING, FAILED), or
    None when it was not due (or another sender has it)."""
    store, settings = backend.jobs, backend.settings
    now = settings.time()
    row = store.claim_notification(job_id, now, LEASE_S)
    if row is None:
        return None
    notify = row.get("notify") or {}
    email_error = None
    if notify.get("email") and row["notify_attempts"] == 1:
        try:
            send(backend, outcome_message(backend, row))
        except Exception as exc:  # recorded; the webhook still goes
            email_error = f"email: {exc}"
    if not notify.get("webhook"):
        state = "FAILED" if email_error else "SENT"
        store.end_notification(job_id, state, error=email_error)
        return state
    try:
        send_webhook(backend, row)
    except WebhookRefused as exc:
        store.end_notification(job_id, "FAILED", error=f"webhook refused: {exc}")
        return "FAILED"
    except (OSError, http.client.HTTPException) as exc:
        reason = f"webhook: {exc or type(exc).__name__}" + (f"; {email_error}" if email_error else "")
        if row["notify_attempts"] >= MAX_ATTEMPTS:
            store.end_notification(job_id, "FAILED", error=f"{reason} ({MAX_ATTEMPTS} deliveries)")
            return "FAILED"
        store.end_notification(job_id, "PENDING", next_at=settings.time() + backoff(settings, row["notify_attempts"]),
                               error=reason)
        return "PENDING"
    store.end_notification(job_id, "SENT", error=email_error)
    return "SENT"


def deliver_due(backend: BackendLike, limit: int = 100) -> int:
    """Send every notification due now, once each (what sweeps do); returns how many were sent."""
    ids = backend.jobs.due_notifications(backend.settings.time(), limit)
    return sum(deliver(backend, job_id) == "SENT" for job_id in ids)


def _run(backend: BackendLike, job_id: str) -> None:
    try:
        for _ in range(MAX_ATTEMPTS):
            if deliver(backend, job_id) != "PENDING":
                return
            row = backend.jobs.get(job_id, graph=False)
            if row is None or row.get("notify_state") != "PENDING" or row.get("notify_next") is None:
                return
            wait = row["notify_next"] - backend.settings.time()
            if wait > DISPATCH_WAIT_S:
                return  # a sweep sends it
            time.sleep(max(wait, 0.0))
    except Exception:  # a closed store, a locked database: the next sweep sends it
        log.debug("wf_widgets: notification of job %s left to the sweep", job_id, exc_info=True)


def dispatch(backend: BackendLike, job_id: str) -> threading.Thread:
    """Send the job's notification from a daemon thread (redelivering while this process lives); returns it."""
    thread = threading.Thread(target=_run, args=(backend, job_id), name=f"wf-notify-{job_id[12:20]}", daemon=True)
    thread.start()
    return thread
