"""A loopback SMTP server that keeps what it receives: email without a mail account.

``wf-widgets demo`` and the example notebooks use it when ``WF_WIDGETS_SMTP_URL`` is not
set, so the email destination runs for real (over SMTP, through :mod:`smtplib`) and the
message it sent can be printed.
"""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage
from typing import Any

from .._context import BackendLike


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Keep:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


class SMTPSink:
    """An SMTP server on 127.0.0.1 keeping every message (``.messages``).

    Use as a context manager, or :meth:`start` and :meth:`stop`.
    """

    def __init__(self) -> None:
        self._handler = _Keep()
        self._controller: Any = None
        self.url: str | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self._handler.messages

    def start(self) -> str:
        """Start serving; returns its ``smtp://`` URL."""
        from aiosmtpd.controller import Controller  # noqa: PLC0415  (optional: only the demo's sink starts one)

        port = _free_port()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=port)
        self._controller.start()
        self.url = f"smtp://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SMTPSink":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def describe(self, message: EmailMessage) -> str:
        """A short text rendering of a caught message: headers and the text part."""
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        return f"From: {message['From']}\nTo: {message['To']}\nSubject: {message['Subject']}\n\n{text.strip()}"


def use_sink_if_unconfigured(backend: BackendLike, address: str = "you@example.org") -> SMTPSink | None:
    """Start an :class:`SMTPSink` and point ``backend`` at it unless SMTP is configured.

    Returns the sink (stop it when done), or None when ``WF_WIDGETS_SMTP_URL`` is set.
    """
    settings = backend.settings
    if settings.smtp_url:
        return None
    sink = SMTPSink()
    settings.smtp_url = sink.start()
    settings.email = settings.email or address
    return sink
