"""Where download links point: the base URL of a server that can answer them.

:func:`base_url` resolves, in this order:

1. ``settings.public_url`` (``WF_WIDGETS_PUBLIC_URL``), used as given;
2. a live Jupyter server extension (kind ``"jupyter"`` in :mod:`~wf_widgets.server.registry`:
   ``<home>/servers/*.json``, or with ``WF_WIDGETS_DATABASE_URL`` the database's ``servers``
   table, never a home folder);
3. a live standalone server (``wf-widgets serve``, kind ``"standalone"``);
4. else this process's kernel-thread server, started on demand
   (:func:`wf_widgets.server.thread.ensure_thread_server`).

The Backend resolves links through this module (``backend.link_base()``,
``backend.link_note()``) where a job is launched or a link is shown; the delivery layer below
never does (a worker never starts a server).

A link from the kernel-thread server works only while this process lives:
:func:`link_note` returns the sentence to show beside such a link (None otherwise).
"""

from __future__ import annotations

from .._context import BackendLike
from . import registry
from .thread import NOTE, ensure_thread_server, running_thread_server


def resolve(backend: BackendLike) -> tuple[str, str]:
    """``(base url without trailing slash, source)``.

    ``source`` is ``"public_url"``, ``"jupyter"``, ``"standalone"`` or ``"thread"``.
    """
    public = backend.settings.public_url
    if public:
        return public.rstrip("/"), "public_url"
    live = registry.live_servers(backend.settings)
    for kind in ("jupyter", "standalone"):
        for info in live:
            if info["kind"] == kind:
                return info["url"].rstrip("/"), kind
    return ensure_thread_server(backend), "thread"


def lasting_base(backend: BackendLike) -> str | None:
    """The base of links that outlive this process (steps 1 to 3 above), or None; never starts a server.

    What a short-lived process (``wf-widgets jobs show``) shows links with: a server of its
    own would stop, and its link with it, when the command ends.
    """
    public = backend.settings.public_url
    if public:
        return public.rstrip("/")
    live = registry.live_servers(backend.settings)
    for kind in ("jupyter", "standalone"):
        for info in live:
            if info["kind"] == kind:
                return info["url"].rstrip("/")
    return None


def base_url(backend: BackendLike) -> str:
    """The base of download links (``<base>/results/<job id>?...``); see the module doc."""
    return resolve(backend)[0]


def link_note(backend: BackendLike) -> str | None:
    """A note to show beside links when they only work while this kernel lives, else None.

    Never starts a server: None unless links would come from this process's thread server.
    """
    if backend.settings.public_url:
        return None
    if any(info["kind"] in ("jupyter", "standalone") for info in registry.live_servers(backend.settings)):
        return None
    server = running_thread_server(backend)
    return NOTE if server is not None else None
