"""Where download links point: the base URL of a server that can answer them.

:func:`base_url` resolves, in this order:

1. ``settings.public_url`` (``WF_WIDGETS_PUBLIC_URL``), used as given;
2. a live Jupyter server extension (``<home>/servers/*.json`` of kind ``"jupyter"``);
3. a live standalone server (``wf-widgets serve``, kind ``"standalone"``);
4. else this process's kernel-thread server, started on demand
   (:func:`wf_widgets.server.thread.ensure_thread_server`).

A link from the kernel-thread server works only while this process lives:
:func:`link_note` returns the sentence to show beside such a link (None otherwise).
"""

from __future__ import annotations

from typing import Any


def resolve(backend: Any) -> tuple[str, str]:
    """``(base url without trailing slash, source)``.

    ``source`` is ``"public_url"``, ``"jupyter"``, ``"standalone"`` or ``"thread"``.
    """
    public = backend.settings.public_url
    if public:
        return public.rstrip("/"), "public_url"
    from ..server import registry

    live = registry.live_servers(backend.settings)
    for kind in ("jupyter", "standalone"):
        for info in live:
            if info["kind"] == kind:
                return info["url"].rstrip("/"), kind
    from ..server.thread import ensure_thread_server

    return ensure_thread_server(backend), "thread"


def base_url(backend: Any) -> str:
    """The base of download links (``<base>/results/<job id>?...``); see the module doc."""
    return resolve(backend)[0]


def link_note(backend: Any) -> str | None:
    """A note to show beside links when they only work while this kernel lives, else None.

    Never starts a server: None unless links would come from this process's thread server.
    """
    if backend.settings.public_url:
        return None
    from ..server import registry
    from ..server.thread import NOTE, running_thread_server

    if any(info["kind"] in ("jupyter", "standalone") for info in registry.live_servers(backend.settings)):
        return None
    server = running_thread_server(backend)
    return NOTE if server is not None else None
