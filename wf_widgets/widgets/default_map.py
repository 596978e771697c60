"""``wf.map``: the TileMap that ``value.visualize(...)`` shows its layers on, made on first use.

As the original client's ``wf.map``: one map per kernel; showing ``wf.map`` in a cell
displays it. ``wf_widgets`` reaches it lazily (``wf.map`` is a PEP 562 attribute of the
package), so importing the package never imports Jupyter's packages.
"""

from __future__ import annotations

import threading

from .tile_map import TileMap

_LOCK = threading.Lock()
_MAP: dict[str, TileMap] = {}


def default_map() -> TileMap:
    """The default map of this process: made on first use, and made again if it was closed."""
    with _LOCK:
        current = _MAP.get("map")
        if current is None or current.comm is None:
            current = _MAP["map"] = TileMap()
        return current
