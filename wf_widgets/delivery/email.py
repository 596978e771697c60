"""The email destination: a stored download plus a message carrying its link.

``preflight`` checks the configuration; ``deliver`` stores the result, then sends the
message (:mod:`wf_widgets.delivery.mailer`); ``result`` explains that email results are
not loaded into the notebook.
"""

from __future__ import annotations

from typing import Any

from ..errors import JobDestination, ValidationError, WfError
from ..outputs.registry import HEADER_TEXT
from . import download

SUBJECT_PREFIX = "Workflows: "


def preflight(destination: dict, format: dict, value: Any, backend: Any) -> None:
    """Raise unless the user's address and an SMTP server are configured."""
    settings = backend.settings
    missing = [name for name, val in (("WF_WIDGETS_EMAIL", settings.email), ("WF_WIDGETS_SMTP_URL", settings.smtp_url))
               if not val]
    if missing:
        raise ValidationError(
            "The email destination needs " + " and ".join(missing) + " to be set "
            "(environment variables, or email/smtp_url in the config file); e.g. "
            "WF_WIDGETS_EMAIL=me@example.org WF_WIDGETS_SMTP_URL=smtp://user:password@smtp.example.org:587",
            field="destination", value="email", allowed=None,
        )
    problem = HEADER_TEXT.problem(settings.email)
    if problem is not None:  # it becomes the To header
        raise ValidationError(f"WF_WIDGETS_EMAIL must be one address on one line: {settings.email!r} contains "
                              f"{problem}", field="email", value=settings.email)
    if not settings.smtp_url.startswith(("smtp://", "smtps://")):
        raise ValidationError(
            f"WF_WIDGETS_SMTP_URL must start with smtp:// or smtps://, got {settings.smtp_url!r}",
            field="smtp_url", value=settings.smtp_url, allowed=("smtp://", "smtps://"),
        )


def deliver(backend: Any, job: dict, value: Any) -> dict:
    """Store the result, then email its link; an SMTP failure keeps the stored result."""
    from .mailer import send_result_email

    stored = download.store(backend, job, value)
    try:
        send_result_email(backend, job, stored["expires"])
    except WfError as exc:
        exc.stored = stored  # the runner keeps the download on this failure
        raise
    except Exception as exc:  # e.g. no server could be started for the link: still a destination failure
        err = JobDestination(f"Could not email the result: {type(exc).__name__}: {exc}. The result is stored: "
                             "use job.url for its download link, or job.result_to_file(path).")
        err.stored = stored
        raise err from exc
    return stored


def result(backend: Any, job: dict) -> Any:
    raise EmailResultNotLoaded(
        f"Job {job['id']} sent its result by email; email results are not loaded into the notebook. "
        "Use job.url for the download link, or job.result_to_file(path) to save the data."
    )


class EmailResultNotLoaded(WfError):
    """``Job.result()`` of an email job: the data is delivered by link, not loaded."""
