"""The map's side panel: its controls, the rows of its preview layers, its log.

* :class:`Panel` / :func:`build_panel`: the panel's widgets, linked to the map's traits
  (collapsed to one line by default: :func:`summary_html`);
* :class:`PreviewLayer` / :func:`layer_row`: what one ``TileMap.preview`` made, and its row;
* :class:`ErrorLog`: the log's lines, with repeated tile errors folded.
"""

from __future__ import annotations

import dataclasses
import html
import time
from typing import Any, Callable

import ipywidgets
import traitlets

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
        self.failures = 0  # tile render errors added, repeats included
        self._folded: dict[tuple, list] = {}  # (layer id, version, message) -> [line index, count, first tile]

    def add(self, text: str, when: float | None = None) -> None:
        """Add a plain line (stamped with the local time)."""
        stamp = time.strftime("%H:%M:%S", time.localtime(when if when is not None else time.time()))
        self._append(f"{stamp} {text}")

    def add_tile_error(self, layer_name: str, row: dict) -> None:
        """Add a render error row of the layer store (folding repeats of the same message)."""
        self.failures += 1
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


@dataclasses.dataclass(eq=False)
class Panel:
    """The parts of the map's side panel that the map writes to.

    Attributes
    ----------
    box : ipywidgets.VBox
        The whole panel: one line (the toggle and the summary), and the body the toggle
        shows or hides.
    toggle : ipywidgets.ToggleButton
        Shows the body (linked to the map's ``panel_open``).
    body : ipywidgets.VBox
    summary, status_line, selection_line, grid_note, log_view, error_line : ipywidgets.HTML
    layers_box : ipywidgets.VBox
        One :func:`layer_row` per preview.
    """

    box: ipywidgets.VBox
    toggle: ipywidgets.ToggleButton
    body: ipywidgets.VBox
    summary: ipywidgets.HTML
    status_line: ipywidgets.HTML
    selection_line: ipywidgets.HTML
    grid_note: ipywidgets.HTML
    layers_box: ipywidgets.VBox
    log_view: ipywidgets.HTML
    error_line: ipywidgets.HTML


#: Widest the one-line summary gets; longer text ends with an ellipsis rather than wrapping.
SUMMARY_MAX_PX = 300


def summary_html(text: str, warning: str = "") -> str:
    """The collapsed panel's one line: never wraps (an ellipsis cuts what doesn't fit; the title has it all)."""
    full = f"{text} · {warning}" if warning else text
    shown = html.escape(text) + (f' · <span style="color:#c92a2a">{html.escape(warning)}</span>' if warning else "")
    return (f'<div title="{html.escape(full, quote=True)}" style="white-space:nowrap;overflow:hidden;'
            f'text-overflow:ellipsis;max-width:{SUMMARY_MAX_PX}px;line-height:28px">{shown}</div>')


def _html_line(css_class: str) -> ipywidgets.HTML:
    line = ipywidgets.HTML()
    line.add_class(css_class)
    return line


def build_panel(m: Any, probe: ipywidgets.DOMWidget, on_use_viewport: Callable[[], None],
                on_clear: Callable[[], None]) -> Panel:
    """The side panel of the map ``m``: grid fields and the draw mode linked to its traits, buttons, lines.

    Collapsed (``m.panel_open`` False, the default) it is one line, the toggle and a summary
    of the selection, so that it covers little of the map and none of its drawing tools;
    open, it shows the status line, the selection line, the grid fields, the draw mode,
    the layers, the log and the last callback error. ``probe`` (the hidden health probe) is
    placed in the panel so that it has a view.
    """
    small = ipywidgets.Layout(width="125px")
    label = {"description_width": "45px"}
    resolution = ipywidgets.BoundedFloatText(value=m.tile_resolution, min=0.01, max=1e6, description="res (m)",
                                             layout=small, style=label)
    size = ipywidgets.BoundedIntText(value=m.tile_size, min=1, max=1 << 16, description="size", layout=small,
                                     style=label)
    pad = ipywidgets.BoundedIntText(value=m.tile_pad, min=0, max=1 << 14, description="pad", layout=small,
                                    style=label)
    for widget, name in ((resolution, "tile_resolution"), (size, "tile_size"), (pad, "tile_pad")):
        widget.add_class(f"wf-map-{name.replace('_', '-')}")
        traitlets.link((widget, "value"), (m, name))
    show = ipywidgets.Checkbox(value=m.show_grid, description="grid", indent=False,
                               layout=ipywidgets.Layout(width="70px"))
    traitlets.link((show, "value"), (m, "show_grid"))
    mode = ipywidgets.ToggleButtons(options=[("add", "add"), ("remove", "remove")], value=m.draw_mode,
                                    description="drawing", tooltips=["a drawn shape selects the tiles it meets",
                                                                     "a drawn shape deselects the tiles it meets"],
                                    style={"button_width": "70px", "description_width": "55px"})
    mode.add_class("wf-map-draw-mode")
    traitlets.link((mode, "value"), (m, "draw_mode"))
    viewport = ipywidgets.Button(description="Use viewport", icon="expand", layout=ipywidgets.Layout(width="130px"))
    viewport.add_class("wf-map-use-viewport")
    viewport.on_click(lambda _b: on_use_viewport())
    clear = ipywidgets.Button(description="Clear", icon="eraser", layout=ipywidgets.Layout(width="80px"))
    clear.add_class("wf-map-clear-selection")
    clear.on_click(lambda _b: on_clear())
    layers_box = ipywidgets.VBox()
    layers_box.add_class("wf-map-layers")
    parts = {name: _html_line(f"wf-map-{css}") for name, css in (
        ("summary", "summary"), ("status_line", "status"), ("selection_line", "selection"),
        ("grid_note", "grid-note"), ("log_view", "log"), ("error_line", "callback-error"))}
    body = ipywidgets.VBox([
        parts["status_line"], parts["selection_line"],
        ipywidgets.HBox([resolution, size, pad]),
        ipywidgets.HBox([show, viewport, clear]),
        mode, parts["grid_note"], layers_box, parts["log_view"], parts["error_line"],
    ], layout=ipywidgets.Layout(display=None if m.panel_open else "none"))
    body.add_class("wf-map-panel-body")
    toggle = ipywidgets.ToggleButton(value=m.panel_open, icon="bars", tooltip="show or hide the map's controls",
                                     layout=ipywidgets.Layout(width="32px", min_width="32px", padding="0"))
    toggle.add_class("wf-map-panel-toggle")
    traitlets.link((toggle, "value"), (m, "panel_open"))
    toggle.observe(lambda change: setattr(body.layout, "display", None if change["new"] else "none"), names=["value"])
    header = ipywidgets.HBox([toggle, parts["summary"]], layout=ipywidgets.Layout(align_items="center",
                                                                                 flex_flow="row nowrap"))
    box = ipywidgets.VBox([header, body, probe], layout=ipywidgets.Layout(max_width="420px", padding="2px 4px"))
    box.add_class("wf-map-panel")
    return Panel(box=box, toggle=toggle, body=body, layers_box=layers_box, **parts)
