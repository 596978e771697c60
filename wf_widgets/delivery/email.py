"""The email destination: a stored download plus a message carrying its link.

``preflight`` checks the configuration; ``deliver`` stores the result, then sends the
message (:mod:`wf_widgets.delivery.mailer`); ``result`` explains that email results are
not loaded into the notebook.
"""

from __future__ import annotations

from .._context import BackendLike
from ..errors import EmailResultNotLoaded, JobDestination, ValidationError, WfError
from ..outputs.registry import HEADER_TEXT
from . import download
from .mailer import send_result_email


class EmailHandler:
    """The email destination (see :class:`~wf_widgets.delivery.handler.DestinationHandler`)."""

    link_in_worker = True
    stores_download = True  # a stored result with a signed link
    discardable = False  # a message went out

    def preflight(self, destination: dict, format: dict, value: object | None, backend: BackendLike) -> None:
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

    def recheck(self, destination: dict, format: dict, backend: BackendLike) -> None:
        """Nothing can change: the configuration is read once per process."""

    def deliver(self, backend: BackendLike, job: dict, value: object) -> dict:
        """Store the result, then email its link; an SMTP failure keeps the stored result."""
        stored = download.store(backend, job, value)
        try:
            send_result_email(backend, job, stored["expires"])
        except JobDestination as exc:
            exc.stored = stored  # the runner keeps the download on this failure
            raise
        except WfError as exc:
            raise JobDestination(f"Could not email the result: {exc}. The result is stored: use job.url for its "
                                 "download link, or job.result_to_file(path).", stored=stored) from exc
        except Exception as exc:  # a failure of our own: still a destination failure, the result kept
            raise JobDestination(f"Could not email the result: {type(exc).__name__}: {exc}. The result is stored: "
                                 "use job.url for its download link, or job.result_to_file(path).",
                                 stored=stored) from exc
        return stored

    def result(self, backend: BackendLike, job: dict) -> object:
        """Email results are not loaded into the notebook: raise EmailResultNotLoaded."""
        raise EmailResultNotLoaded(
            f"Job {job['id']} sent its result by email; email results are not loaded into the notebook. "
            "Use job.url for the download link, or job.result_to_file(path) to save the data."
        )
