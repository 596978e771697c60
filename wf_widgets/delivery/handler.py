"""The protocol every destination handler follows, and the stored-result fields it returns.

One handler per destination of the rules table (:data:`wf_widgets.outputs.DESTINATIONS`),
found by name in :data:`wf_widgets.delivery.HANDLERS` (a test keeps the two in step):

* ``preflight`` runs in the launching process before a job exists (configuration, catalog
  state, access); the launch pipeline (:mod:`wf_widgets.jobs.plan`) calls it once per launch;
* ``recheck`` runs again right before a prepared launch is submitted, and checks only what
  can change in between (existence, access), cheaply;
* ``deliver`` runs in the worker with the computed value and returns the row's result fields;
* ``result`` gives what ``compute()`` and ``Job.result()`` return for a finished job.
"""

from __future__ import annotations

from typing import Protocol

from .._context import BackendLike


class DestinationHandler(Protocol):
    """Delivers results to one destination.

    Attributes
    ----------
    link_in_worker : bool
        The worker needs the link of the stored result (an email carries it): the launching
        process resolves the links' base URL and stores it in the job's row.
    discardable : bool
        Delivering leaves nothing but the stored result file, which the runner deletes if
        the job ends otherwise after all (cancelled meanwhile): a job may be delivered before
        its row is claimed (see :func:`wf_widgets.jobs.runner.execute`). Nothing sent, nothing
        written elsewhere.
    stores_download : bool
        The result is a stored download with a signed link (a notification carries the
        link, so the launching process resolves its base URL as for ``link_in_worker``).
        Optional: a handler without it stores none.
    """

    link_in_worker: bool
    discardable: bool

    def preflight(self, destination: dict, format: dict, value: object | None, backend: BackendLike) -> None:
        """Raise (ValidationError, NotFound, PermissionDenied) if a job could not succeed."""

    def recheck(self, destination: dict, format: dict, backend: BackendLike) -> None:
        """Raise if what can change between preflight and submission no longer holds."""

    def deliver(self, backend: BackendLike, job: dict, value: object) -> dict:
        """Deliver the computed ``value`` of the job row ``job``; returns the row's result fields."""

    def result(self, backend: BackendLike, job: dict) -> object:
        """What ``compute()`` / ``Job.result()`` return for the finished job row ``job``."""
