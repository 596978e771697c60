"""Preview layers of the map: what one ``TileMap.preview`` made, and its row in the side panel."""

from __future__ import annotations

import dataclasses
import html
import time
from typing import Any, Callable

import ipywidgets

#: Lines kept in the map's log.
MAX_LOG_LINES = 50
#: Lines of the log shown in the panel (the newest).
SHOWN_LOG_LINES = 6


@dataclasses.dataclass(eq=False)
class PreviewLayer:
    """One previewed value on a :class:`~wf_widgets.widgets.TileMap`.

    Attributes
    ----------
    name : str
        Its name in the layer list (unique on the map; previewing the same name replaces it).
    value : Value
        The Image shown (an ImageCollection previewed is shown as its mosaic).
    layer_id : str
        The id in the layer store (128 random bits, hex).
    version : int
        Bumped each time the layer is replaced.
    scales : list of [min, max] or None
        One pair per shown band; None: each tile scaled on its own.
    colormap : str or None
    checkerboard : bool
    band_names : list of str or None
        The value's bands, when known before computing.
    leaflet : ipyleaflet.TileLayer or ipyleaflet.ImageOverlay
        The layer on the map (an ImageOverlay in fallback mode).
    opacity : ipywidgets.FloatSlider
        The layer's opacity slider in the side panel.
    row : ipywidgets.HBox
        The layer's row in the side panel.
    """

    name: str
    value: Any
    layer_id: str
    version: int
    scales: list | None
    colormap: str | None
    checkerboard: bool
    band_names: list | None
    leaflet: Any = None
    opacity: Any = None
    row: Any = None

    @property
    def options(self) -> dict:
        """The render options stored with the layer."""
        return {"scales": self.scales, "colormap": self.colormap, "checkerboard": self.checkerboard}


def layer_row(layer: PreviewLayer, on_opacity: Callable[[PreviewLayer, float], None],
              on_remove: Callable[[PreviewLayer], None]) -> ipywidgets.HBox:
    """The side-panel row of a layer: its name, an opacity slider, a remove button."""
    label = ipywidgets.HTML(f"<b>{html.escape(layer.name)}</b>", layout=ipywidgets.Layout(width="110px"))
    slider = ipywidgets.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, readout=False,
                                    layout=ipywidgets.Layout(width="120px"), tooltip="opacity")
    slider.add_class("wf-map-opacity")
    slider.observe(lambda change: on_opacity(layer, change["new"]), names=["value"])
    remove = ipywidgets.Button(icon="times", tooltip=f"remove {layer.name}", layout=ipywidgets.Layout(width="32px"))
    remove.add_class("wf-map-remove-layer")
    remove.on_click(lambda _button: on_remove(layer))
    row = ipywidgets.HBox([label, slider, remove])
    row.add_class("wf-map-layer-row")
    layer.opacity = slider
    layer.row = row
    return row


class ErrorLog:
    """The map's log: lines, with repeated errors of a layer folded into one line with a count."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._folded: dict[tuple, list] = {}  # (layer id, version, message) -> [line index, count, first tile]

    def add(self, text: str, when: float | None = None) -> None:
        """Add a plain line (stamped with the local time)."""
        stamp = time.strftime("%H:%M:%S", time.localtime(when if when is not None else time.time()))
        self._append(f"{stamp} {text}")

    def add_tile_error(self, layer_name: str, row: dict) -> None:
        """Add a render error row of the layer store (folding repeats of the same message)."""
        key = (row["layer_id"], row["version"], row["message"])
        tile = f"tile {row['z']}/{row['x']}/{row['y']}" if row.get("z") is not None else "the view's image"
        entry = self._folded.get(key)
        stamp = time.strftime("%H:%M:%S", time.localtime(time.time()))
        if entry is not None and entry[0] < len(self.lines):
            entry[1] += 1
            self.lines[entry[0]] = (f"{stamp} {layer_name}: {entry[2]} and {entry[1] - 1} more failed: "
                                    f"{row['message']}")
            return
        self._append(f"{stamp} {layer_name}: {tile} failed: {row['message']}")
        self._folded[key] = [len(self.lines) - 1, 1, tile]

    def _append(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) > MAX_LOG_LINES:
            drop = len(self.lines) - MAX_LOG_LINES
            self.lines = self.lines[drop:]
            self._folded = {k: [i - drop, n, t] for k, (i, n, t) in self._folded.items() if i >= drop}

    def html(self) -> str:
        """The newest lines as HTML (empty when there are none)."""
        if not self.lines:
            return ""
        shown = self.lines[-SHOWN_LOG_LINES:]
        return "<div class='wf-map-log-lines'>" + "".join(
            f"<div class='wf-map-log-line'>{html.escape(line)}</div>" for line in shown) + "</div>"
