"""HealthProbe: a hidden widget through which the browser says whether it reaches a server.

The kernel cannot know what the browser can reach (a remote kernel, a proxy, a page served
over https). The view (``js/health_probe.js``) fetches :attr:`HealthProbe.url` from the
page and sets :attr:`HealthProbe.reachable`; :class:`~wf_widgets.widgets.TileMap` observes
it and falls back to static images when the tile server is out of the browser's reach.
"""

from __future__ import annotations

import anywidget
import traitlets

from ._base import WidgetBase, static_path


class HealthProbe(WidgetBase, anywidget.AnyWidget):
    """Fetches ``url`` (a ``/health`` endpoint) from the page; shows nothing.

    Attributes
    ----------
    url : str
        What to fetch; an absolute URL or a path on the page's origin.
    reachable : bool or None
        None until a view has answered; then whether the fetch returned ``{"ok": true}``.
    checked_url : str
        The URL ``reachable`` is about (a view answers for the url it fetched).
    """

    _esm = static_path("health_probe.js")

    url = traitlets.Unicode("").tag(sync=True)
    reachable = traitlets.Bool(None, allow_none=True).tag(sync=True)
    checked_url = traitlets.Unicode("").tag(sync=True)

    @traitlets.observe("url")
    def _on_url(self, change: dict) -> None:
        if change["new"] != self.checked_url:
            self.reachable = None
