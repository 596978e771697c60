"""TileMap: preview results as map tiles and pick DLTiles on an ipyleaflet map.

How it fits together
--------------------
* :meth:`TileMap.preview` stores the value's graph and render options in the home folder's
  layer store (:mod:`wf_widgets.layers`) and adds an ``ipyleaflet.TileLayer`` whose URL is
  ``<server>/tiles/<layer id>/{z}/{x}/{y}.png?v=<version>``; the delivery server (any of its
  three mounts) renders the tiles (:mod:`wf_widgets.server.tiles`). Under the Jupyter
  extension the URL is a path on the page's origin, otherwise absolute
  (:mod:`wf_widgets.widgets._map_server`).
* A hidden probe (:class:`~wf_widgets.widgets._map_probe.HealthProbe`) fetches the server's
  ``/health`` from the browser. If it fails, previews become ``ipyleaflet.ImageOverlay`` s of
  the rendered view (PNG data URLs, rendered again when the view changes) and the status
  line says so.
* Tile render errors are recorded in the layer store by the server; the map polls them
  (once a second, on a :class:`~wf_widgets.widgets._poller.Poller` thread handing rows to
  the kernel's IOLoop) into its log.
* The DLTile grid of the current view (at ``tile_resolution``, ``tile_size``, ``tile_pad``)
  is a GeoJSON layer; clicking a tile toggles it; drawing a rectangle or polygon (an
  ``ipyleaflet.DrawControl``) selects (or, in ``draw_mode="remove"``, deselects) every tile
  that intersects it; "Use viewport" selects every tile in view. The selection is
  ``selected_keys``; ``selected_tiles`` gives the DLTiles, so ``ExportForm(value, map)``
  launches one job per selected tile.
* The selection line estimates the size of ``export_value`` (set by a linked ExportForm to
  its value), else of the last previewed value, with the form's estimate
  (:mod:`wf_widgets.widgets._estimate`): the map and the form say the same.

Decisions:

* Scales: ``preview(..., scales=None)`` computes the 2nd and 98th percentiles of each shown
  band over a render of the current view at most 256 pixels wide; when nothing in view is
  unmasked, each tile is scaled on its own (and the log says so).
* An ImageCollection is previewed as its ``mosaic()``; one or two bands show the first band
  through a colormap (default ``"gray"``), three or more the first three as RGB.
* Changing ``tile_resolution``, ``tile_size`` or ``tile_pad`` clears the selection (a
  selection is of one grid); the log says how many tiles were dropped.
* The grid shows at most ``max_grid_tiles`` (2,000) tiles; with more in view it shows only
  the selected ones, and a note. A selection holds at most :data:`MAX_SELECTION` tiles.
* Before the browser has reported the map's size, "the view" is the one a 960 x 400 pixel
  map shows at ``center`` and ``zoom``.
* Tiles are rendered as the serving process's user (the kernel's user for the thread
  server); layers live until the map is closed, or 30 days.
"""

from __future__ import annotations

import html
import logging
import sys
import threading
from typing import Any

import ipyleaflet
import traitlets

from ..backend import get_backend
from ..engine import render
from ..errors import ValidationError, ValidationTypeError
from ..geo import DLTile
from ..server.tiles import error_text
from ..values.base import Value, promote
from . import _map_grid as grid
from ._base import WidgetBase, caller_name, check_kwargs, kernel_loop, shows_errors
from ._estimate import known_bands
from ._map_layers import ErrorLog, PreviewLayer, build_panel, layer_row, summary_html
from ._map_probe import HealthProbe
from ._map_server import TileServer, resolve_tile_server
from ._poller import Poller

log = logging.getLogger("wf_widgets.widgets")

#: Most tiles a selection may hold (drawing or "Use viewport" beyond it is refused).
MAX_SELECTION = 10_000
#: Seconds between two reads of the layer store's render errors.
ERROR_POLL_S = 1.0
#: Largest side, in pixels, of the view rendered for autoscaling.
AUTOSCALE_PX = 256
#: Largest side, in pixels, of a fallback image of the view.
FALLBACK_PX = 1024


class TileMap(WidgetBase, ipyleaflet.Map):
    """An ipyleaflet Map that previews values as tiles and selects DLTiles.

    Parameters
    ----------
    **kwargs
        Traits of this class and of ``ipyleaflet.Map`` (``center``, ``zoom``, ``layout``,
        ...); anything else raises ``TypeError``.

    Attributes
    ----------
    tile_resolution : float
        Resolution of the DLTile grid, metres (default 10.0).
    tile_size : int
        Pixels per side of a DLTile, without padding (default 512).
    tile_pad : int
        Padding of a DLTile, pixels (default 0).
    show_grid : bool
        Show the DLTile grid of the view (default True).
    max_grid_tiles : int
        Most tiles the grid shows (default 2,000).
    draw_mode : str
        ``"add"`` (drawing selects the tiles it meets) or ``"remove"`` (deselects them).
    selected_keys : list of str
        Keys of the selected DLTiles, in selection order.
    export_value : Value or None
        The value whose size the selection line estimates: a linked ExportForm sets it to its
        value (and back to None when closed); None: the last previewed value.
    panel_open : bool
        Show the whole side panel (default False: one line, the selection's summary, so the
        panel covers little of the map and none of its tools); the panel's toggle button
        sets it, and a callback error opens it.
    summary : str
        The collapsed panel's line: ``"2 tiles selected · 4.0 MiB"``, then what needs a
        look inside (``"static previews"``, ``"3 tile errors"``, ``"error"``).
    status : str
        The status line: where tiles come from, or why previews are static images.
    messages : list of str
        The log: notes and tile render errors (repeats folded), oldest first.
    fallback : bool
        True while previews are ImageOverlays (the browser can't reach the tile server).
    callback_error : str
        The last error raised in a callback (a click, a draw), shown in the panel.
    selected_tiles : list of DLTile
        The selected tiles (a property, built from ``selected_keys``).
    previews : dict
        Layer name -> :class:`~wf_widgets.widgets._map_layers.PreviewLayer` (a property).
    tile_server : TileServer or None
        Where tiles come from, once something was previewed.
    grid_layer : ipyleaflet.GeoJSON
    draw_control : ipyleaflet.DrawControl
    probe : HealthProbe
    """

    tile_resolution = traitlets.Float(10.0)
    tile_size = traitlets.Int(512)
    tile_pad = traitlets.Int(0)
    show_grid = traitlets.Bool(True)
    max_grid_tiles = traitlets.Int(2000)
    draw_mode = traitlets.Enum(("add", "remove"), default_value="add")
    selected_keys = traitlets.List(traitlets.Unicode())
    export_value = traitlets.Any(None, allow_none=True)
    panel_open = traitlets.Bool(False)
    summary = traitlets.Unicode("")
    status = traitlets.Unicode("")
    messages = traitlets.List(traitlets.Unicode())
    fallback = traitlets.Bool(False)
    callback_error = traitlets.Unicode("")

    def __init__(self, **kwargs: Any) -> None:
        check_kwargs(self, kwargs)
        self._ready = False  # observers wait until the panel exists
        self._previews: dict[str, PreviewLayer] = {}
        self._geometries = grid.GeometryCache()
        self._grid_keys: list[str] = []
        self._grid_too_many = False
        self._grid_note = ""
        self._log = ErrorLog()
        self._errors_after = 0
        self._lock = threading.RLock()
        self._poller = Poller(self._read_new_errors, self._apply_errors, self._show_error, interval=ERROR_POLL_S,
                              loop=kernel_loop(), name="wf-map-errors", active=self._watching)
        self.tile_server: TileServer | None = None
        self._rendered_box: tuple | None = None
        super().__init__(**kwargs)

        self.grid_layer = ipyleaflet.GeoJSON(data={"type": "FeatureCollection", "features": []}, name="DLTile grid",
                                             hover_style=grid.HOVER_STYLE)
        self.grid_layer.on_click(self._on_grid_click)
        self.draw_control = ipyleaflet.DrawControl(
            rectangle={"shapeOptions": {"color": "#e8590c", "weight": 2, "fillOpacity": 0.1}},
            polygon={"shapeOptions": {"color": "#e8590c", "weight": 2, "fillOpacity": 0.1}},
            polyline={}, circlemarker={}, circle={}, marker={}, edit=False, remove=False)
        self.draw_control.on_draw(self._on_draw)
        self.probe = HealthProbe()
        self.probe.observe(self._on_reachable, names=["reachable"])
        self.add(self.grid_layer)
        self.add(self.draw_control)
        self.add(ipyleaflet.LayersControl(position="topright"))
        panel = build_panel(self, self.probe, self._on_use_viewport, self._on_clear)
        self.status_line, self.selection_line, self.grid_note = panel.status_line, panel.selection_line, panel.grid_note
        self.layers_box, self.log_view, self.error_line = panel.layers_box, panel.log_view, panel.error_line
        self.summary_line, self.panel_body = panel.summary, panel.body
        self.add(ipyleaflet.WidgetControl(widget=panel.box, position="bottomleft"))
        self._ready = True
        self._refresh_grid()
        self._show_selection()

    # -- public API -------------------------------------------------------------------------------
    @property
    def selected_tiles(self) -> list:
        """The selected DLTiles, in selection order."""
        return [DLTile.from_key(k) for k in self.selected_keys]

    @property
    def previews(self) -> dict[str, PreviewLayer]:
        """Layer name -> PreviewLayer, in the order previewed."""
        return dict(self._previews)

    @property
    def backend(self) -> Any:
        """The default backend (whose home holds the layers)."""
        return get_backend()

    def preview(self, value: Any, name: str | None = None, scales: Any = None, colormap: str | None = None,
                checkerboard: bool = False) -> PreviewLayer:
        """Show an Image (or an ImageCollection's mosaic) as a layer; same ``name`` replaces it.

        Parameters
        ----------
        value : Image or ImageCollection
        name : str, optional
            The layer's name; default the caller's variable name for ``value``, else
            ``"layer <n>"``.
        scales : (min, max) or list of (min, max), optional
            Per shown band; default the 2nd and 98th percentiles of the current view.
        colormap : str, optional
            For one band: ``"gray"`` (default), ``"viridis"``, ``"magma"``, ``"inferno"``,
            ``"plasma"``, each also with ``"_r"``.
        checkerboard : bool, default False
            Draw masked pixels as a grey checkerboard instead of transparent.

        Returns
        -------
        PreviewLayer

        Raises
        ------
        ValidationTypeError
            ``value`` is not imagery.
        ValidationError
            Bad ``scales`` or ``colormap``; or what rendering the view for autoscaling raised.
        """
        if name is None:
            name = caller_name(value, sys._getframe(1)) or f"layer {len(self._previews) + 1}"
        name = str(name)
        if not isinstance(value, Value):
            value = promote(value)
        if value.kind == "ImageCollection":
            value = value.mosaic()
        elif value.kind != "Image":
            raise ValidationTypeError(f"TileMap.preview shows an Image or an ImageCollection, not a {value.kind}",
                                      field="value", value=value.kind, allowed=("Image", "ImageCollection"))
        bands = known_bands(value)  # None: unknown before computing, checked while rendering
        shown = render.shown_band_names(bands)
        if colormap is not None:
            render.colormap(colormap)  # raises for an unknown name
            if shown is not None and len(shown) == 3:
                raise ValidationError(f"colormap {colormap!r} applies to one band, but {value!r} shows 3 bands as RGB;"
                                      " pick one band with pick_bands", field="colormap", value=colormap)
        if scales is not None:
            scales = render.normalize_scales(scales, len(shown) if shown is not None else None)
        else:
            scales = self._autoscale(value)
            if scales is None:
                self._note(f"{name}: nothing unmasked in view to scale by: each tile is scaled on its own")
        graph = value.to_json()
        old = self._previews.get(name)
        store = self.backend.layers
        row = store.put(graph, {"scales": scales, "colormap": colormap, "checkerboard": bool(checkerboard)},
                        name=name, layer_id=old.layer_id if old is not None else None)
        if old is not None:
            layer = old
            layer.value, layer.version, layer.scales = value, row["version"], scales
            layer.colormap, layer.checkerboard, layer.band_names = colormap, bool(checkerboard), bands
        else:
            layer = PreviewLayer(name, value, row["id"], row["version"], scales, colormap, bool(checkerboard), bands)
            layer_row(layer, self._on_opacity, self._on_remove_layer)
            with self._lock:  # the error poller reads the layers from its thread
                self._previews[name] = layer
            self.layers_box.children = tuple(p.row for p in self._previews.values())
        if self.tile_server is None:
            self.tile_server = resolve_tile_server(self.backend)
            self.probe.url = self.tile_server.health_url
        self._show_layer(layer)
        self._update_status()
        self._show_selection()
        self._ensure_poller()
        return layer

    def remove_preview(self, name: str) -> None:
        """Remove the preview layer ``name`` from the map (and its layer from the store)."""

        with self._lock:
            layer = self._previews.pop(name)
        if layer.leaflet is not None and layer.leaflet in self.layers:
            self.remove(layer.leaflet)
        self.layers_box.children = tuple(p.row for p in self._previews.values())
        self.backend.layers.delete(layer.layer_id)

    def select(self, keys: Any) -> None:
        """Add DLTile keys (or DLTiles) to the selection (keys already selected stay where they are)."""
        new = [getattr(k, "key", k) for k in keys]
        self._set_selection(list(dict.fromkeys(list(self.selected_keys) + new)))

    def deselect(self, keys: Any) -> None:
        """Remove DLTile keys (or DLTiles) from the selection."""
        drop = {getattr(k, "key", k) for k in keys}
        self._set_selection([k for k in self.selected_keys if k not in drop])

    def clear_selection(self) -> None:
        """Deselect every tile."""
        self.selected_keys = []

    def select_shape(self, shape: Any, remove: bool = False) -> list[str]:
        """Select (or with ``remove`` deselect) every tile of the grid intersecting ``shape``.

        Parameters
        ----------
        shape : GeoJSON dict (geometry or Feature), shapely geometry, ``__geo_interface__``
            In lon/lat; split across UTM zones as ``DLTile.from_shape`` does.
        remove : bool
            Deselect instead.

        Returns
        -------
        list of str
            The keys of the tiles the shape meets.
        """
        keys, more = grid.keys_in_shape(shape, self.tile_resolution, self.tile_size, self.tile_pad, MAX_SELECTION)
        if more:
            raise ValidationError(
                f"The shape meets more than {MAX_SELECTION:,} tiles of {self.tile_size} px at {self.tile_resolution:g} m;"
                " draw a smaller shape or use larger tiles", field="selection", value=MAX_SELECTION)
        if remove:
            self.deselect(keys)
        else:
            self.select(keys)
        return keys

    def use_viewport(self) -> list[str]:
        """Select every tile of the grid in the current view; returns their keys."""
        keys, more = grid.keys_in_box(self.view_box(), self.tile_resolution, self.tile_size, self.tile_pad,
                                      MAX_SELECTION)
        if more:
            raise ValidationError(
                f"The view holds more than {MAX_SELECTION:,} tiles of {self.tile_size} px at {self.tile_resolution:g} m;"
                " zoom in or use larger tiles", field="selection", value=MAX_SELECTION)
        self.select(keys)
        return keys

    def view_box(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the view in degrees (estimated until the browser reports it)."""
        if self.north > self.south and self.east > self.west:
            return (self.west, self.south, self.east, self.north)
        size = grid.DEFAULT_VIEW_PX
        (left, top), (right, bottom) = self.pixel_bounds if self.pixel_bounds else ((0, 0), (0, 0))
        if right - left > 0 and bottom - top > 0 and right - left < 1e7:
            size = (int(right - left), int(bottom - top))
        return grid.view_from_center(self.center, self.zoom, size)

    def poll_errors(self) -> list[dict]:
        """Read new tile render errors from the layer store now and add them to the log; returns them."""
        rows = self._read_errors()
        if rows:
            self._apply_errors(rows)
        return rows

    def close(self) -> None:
        """Stop polling, delete this map's layers from the store, close the widget."""
        poller = getattr(self, "_poller", None)  # None: __init__ did not get that far (close() from __del__)
        if poller is not None:
            poller.stop()
        previews = getattr(self, "_previews", {})
        if previews:
            try:
                self.backend.layers.delete(*[p.layer_id for p in previews.values()])
            except Exception:  # a closed backend: the layers expire on their own
                log.debug("could not delete the map's layers", exc_info=True)
        super().close()

    # -- layers -------------------------------------------------------------------------------------
    def _autoscale(self, value: Any) -> list | None:
        arr = render.read_image(value.node, render.view_geocontext(*self.view_box(), max_size=AUTOSCALE_PX),
                                self.backend)
        return render.autoscale(arr)

    def _tile_layer(self, layer: PreviewLayer) -> Any:
        return ipyleaflet.TileLayer(url=self.tile_server.tile_url(layer.layer_id, layer.version), name=layer.name,
                                    opacity=layer.opacity.value, max_zoom=24, max_native_zoom=24,
                                    attribution="wf_widgets")

    def _overlay(self, layer: PreviewLayer) -> Any:
        w, s, e, n = box = grid.clip_box(self.view_box()) or (-180.0, -85.0, 180.0, 85.0)
        try:
            arr = render.read_image(layer.value.node, render.view_geocontext(*box, max_size=FALLBACK_PX), self.backend)
            url = render.data_url(render.render_png(arr, layer.scales, layer.colormap, layer.checkerboard))
        except Exception as exc:  # shown in the log, as a tile error would be
            self._log.add_tile_error(layer.name, {"layer_id": layer.layer_id, "version": layer.version, "z": None,
                                                  "x": None, "y": None, "message": error_text(exc)})
            self._flush_log()
            url = ""
        return ipyleaflet.ImageOverlay(url=url, bounds=((s, w), (n, e)), name=layer.name, opacity=layer.opacity.value)

    def _show_layer(self, layer: PreviewLayer) -> None:
        """Put the layer's current form (tiles, or an overlay in fallback mode) on the map."""
        new = self._overlay(layer) if self.fallback else self._tile_layer(layer)
        old = layer.leaflet
        if old is not None and old in self.layers:
            self.substitute(old, new)
        else:
            self.add(new)
        layer.leaflet = new

    def _on_opacity(self, layer: PreviewLayer, opacity: float) -> None:
        if layer.leaflet is not None:
            layer.leaflet.opacity = opacity

    @shows_errors
    def _on_remove_layer(self, layer: PreviewLayer) -> None:
        self.remove_preview(layer.name)

    # -- reachability -------------------------------------------------------------------------------
    @shows_errors
    def _on_reachable(self, change: dict) -> None:
        reachable = change["new"]
        fallback = reachable is False
        if fallback != self.fallback:
            self.fallback = fallback
            self._rendered_box = self.view_box() if fallback else None
            for layer in self._previews.values():
                self._show_layer(layer)
        self._update_status()

    @traitlets.observe("fallback")
    def _on_fallback(self, change: dict) -> None:
        self._update_summary()

    def _update_status(self) -> None:
        server = self.tile_server
        if server is None:
            text = ""
        elif self.fallback:
            text = (f"The tile server ({server.description}, {server.base}) is not reachable from this browser: "
                    "previews are static images of the view, rendered again when the view changes. For live tiles, "
                    "enable the Jupyter server extension, open the notebook with `wf-widgets voila`, or set "
                    "WF_WIDGETS_PUBLIC_URL to an address this browser reaches.")
        elif self.probe.reachable is None:
            text = f"Tiles from {server.description} ({server.base}); checking this browser reaches it..."
        else:
            text = f"Tiles from {server.description} ({server.base})."
        self.status = text

    @traitlets.observe("status")
    def _on_status(self, change: dict) -> None:
        if not self._ready:
            return
        self.status_line.value = f"<span>{html.escape(change['new'])}</span>" if change["new"] else ""

    # -- the grid and the selection -----------------------------------------------------------------
    @traitlets.observe("bounds", "zoom", "center")
    @shows_errors
    def _on_view(self, change: dict) -> None:
        if not self._ready:
            return
        if change["name"] != "bounds" and self.north > self.south:
            return  # the browser reports bounds: follow them only
        self._refresh_grid()
        if self.fallback and self._previews:
            box = self.view_box()
            if box != self._rendered_box:
                self._rendered_box = box
                for layer in self._previews.values():
                    self._show_layer(layer)

    @traitlets.observe("tile_resolution", "tile_size", "tile_pad")
    @shows_errors
    def _on_grid_params(self, change: dict) -> None:
        if change["name"] == "tile_resolution" and not change["new"] > 0:
            raise ValidationError(f"Invalid tile_resolution {change['new']!r}: must be > 0", field="tile_resolution",
                                  value=change["new"])
        if self.selected_keys and self._ready:
            n = len(self.selected_keys)
            self.selected_keys = []
            self._note(f"grid changed ({change['name']} = {change['new']}): {grid.n_tiles(n)} deselected")
        self._refresh_grid()

    @traitlets.observe("show_grid", "max_grid_tiles")
    def _on_show_grid(self, change: dict) -> None:
        self._refresh_grid()

    @traitlets.observe("selected_keys")
    def _on_selected(self, change: dict) -> None:
        self._refresh_grid(recompute=False)
        self._show_selection()

    @traitlets.observe("export_value")
    def _on_export_value(self, change: dict) -> None:
        self._show_selection()

    def _set_selection(self, keys: list[str]) -> None:
        if len(keys) > MAX_SELECTION:
            raise ValidationError(f"A selection holds at most {MAX_SELECTION:,} tiles; this one would hold "
                                  f"{len(keys):,}", field="selection", value=len(keys))
        self.selected_keys = keys

    def _refresh_grid(self, recompute: bool = True) -> None:
        """Rebuild the grid layer (``recompute``: find the tiles in view again; else restyle)."""
        if not self._ready:
            return
        if not self.show_grid:
            self._grid_keys, self._grid_too_many, self._grid_note = [], False, ""
        elif recompute:
            keys, more = grid.keys_in_box(self.view_box(), self.tile_resolution, self.tile_size, self.tile_pad,
                                          self.max_grid_tiles)
            self._grid_keys, self._grid_too_many = ([] if more else keys), more
            self._grid_note = (f"More than {self.max_grid_tiles:,} tiles in view: zoom in (or use larger tiles) to "
                               "see the grid; selected tiles are shown." if more else "")
        note = self._grid_note
        if self._grid_too_many:
            shown = grid.intersecting(self.selected_keys[: self.max_grid_tiles], self.view_box(), self._geometries)
        else:
            shown = list(self._grid_keys)
        self.grid_layer.data = grid.feature_collection(shown, self.selected_keys, self._geometries)
        self.grid_note.value = f"<i>{html.escape(note)}</i>" if note else ""

    def _show_selection(self) -> None:
        if not self._ready:
            return
        value = self.export_value
        if value is None and self._previews:
            value = list(self._previews.values())[-1].value
        self.selection_line.value = grid.selection_html(self.selected_keys, value)
        self._update_summary(value)

    def _update_summary(self, value: Any = None) -> None:
        """The collapsed panel's line: the selection (its size as the selection line says it), then warnings."""
        if not self._ready:
            return
        if value is None:
            value = self.export_value
            if value is None and self._previews:
                value = list(self._previews.values())[-1].value
        text = grid.selection_summary(self.selected_keys, value)
        warnings = []
        if self.fallback:
            warnings.append("static previews")
        if self._log.failures:
            warnings.append(f"{self._log.failures:,} tile error{'s' if self._log.failures != 1 else ''}")
        if self.callback_error:
            warnings.append("error")
        warning = ", ".join(warnings)
        self.summary = f"{text} · {warning}" if warning else text
        self.summary_line.value = summary_html(text, warning)

    # -- events ------------------------------------------------------------------------------------
    @shows_errors
    def _on_grid_click(self, **event: Any) -> None:
        props = event.get("properties") or (event.get("feature") or {}).get("properties") or {}
        key = props.get("key")
        if not key:
            return
        if key in self.selected_keys:
            self.deselect([key])
        else:
            self.select([key])

    @shows_errors
    def _on_draw(self, control: Any, action: str, geo_json: dict) -> None:
        if action != "created":
            return
        try:
            self.select_shape(geo_json, remove=self.draw_mode == "remove")
        finally:
            control.clear()  # the selection's highlight replaces the drawn shape

    @shows_errors
    def _on_use_viewport(self) -> None:
        self.use_viewport()

    @shows_errors
    def _on_clear(self) -> None:
        self.clear_selection()

    @traitlets.observe("callback_error")
    def _on_callback_error(self, change: dict) -> None:
        text = change["new"]
        if not self._ready:
            return
        self.error_line.value = f"<span style='color:#c92a2a'>{html.escape(text)}</span>" if text else ""
        if text:
            self.panel_open = True  # an error is shown inside: open the panel
        self._update_summary()

    # -- the log and the error poller ---------------------------------------------------------------
    def _note(self, text: str) -> None:
        self._log.add(text)
        self._flush_log()

    def _flush_log(self) -> None:
        self.messages = list(self._log.lines)
        self.log_view.value = self._log.html()
        self._update_summary()

    def _read_errors(self) -> list[dict]:
        """The render errors of the map's layers not yet in the log (all of them: a newer read
        replaces an older one the loop has not applied yet)."""
        with self._lock:
            ids = [p.layer_id for p in self._previews.values()]
            return self.backend.layers.errors(ids, self._errors_after)

    def _apply_errors(self, rows: list[dict]) -> None:
        with self._lock:
            rows = [row for row in rows if row["n"] > self._errors_after]  # poll_errors() may have been first
            if not rows:
                return
            self._errors_after = rows[-1]["n"]
        names = {p.layer_id: (p.name, p.version) for p in self._previews.values()}
        for row in rows:
            name, version = names.get(row["layer_id"], (None, None))
            if name is None or row["version"] != version:
                continue  # an error of a layer since replaced or removed
            self._log.add_tile_error(name, row)
        self._flush_log()

    def _read_new_errors(self) -> list[dict] | None:
        """What the poller collects: new render errors, or None."""
        return self._read_errors() or None

    def _watching(self) -> bool:
        """Whether the poller has layers to watch (preview() starts it again)."""
        with self._lock:
            return bool(self._previews)

    def _ensure_poller(self) -> None:
        if self._poller.loop is not None:  # without a kernel, poll_errors() reads them
            self._poller.start()
