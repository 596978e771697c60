"""Delivery of results: stored downloads with signed links, email, catalog uploads, cloud storage.

:data:`HANDLERS` holds one :class:`~wf_widgets.delivery.handler.DestinationHandler` per
destination of the rules table (:data:`wf_widgets.outputs.DESTINATIONS`), by name.
"""

from __future__ import annotations

from .._context import BackendLike
from .catalog import CatalogHandler
from .download import DownloadHandler
from .email import EmailHandler
from .handler import DestinationHandler
from .storage_dest import StorageHandler

#: Destination name -> its handler; the names are those of the rules table.
HANDLERS: dict[str, DestinationHandler] = {
    "download": DownloadHandler(),
    "email": EmailHandler(),
    "catalog": CatalogHandler(),
    "storage": StorageHandler(),
}


def preflight(destination: dict, format: dict, value: object | None, backend: BackendLike) -> None:
    """Check what depends on the environment (configuration, catalog state, access) before a job exists.

    Parameters
    ----------
    destination, format : dict
        Normal forms (:func:`wf_widgets.outputs.normalize.normalize`).
    value : Value or None
        The value to compute (the catalog check reads its bands).
    backend : BackendLike
    """
    HANDLERS[destination["type"]].preflight(destination, format, value, backend)


__all__ = ["HANDLERS", "DestinationHandler", "preflight"]
