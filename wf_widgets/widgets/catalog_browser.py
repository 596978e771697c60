"""CatalogBrowser: the catalog's products and images, their footprints on a map, a preview, "Export this".

Plain ipywidgets and ipyleaflet (no view of its own): a product picker (the products the
user may read), a list of the product's images (a thumbnail, the name and date, and
*Preview* and *Export this* buttons), their footprints as a GeoJSON layer of the map (a
click on one previews it), and an :class:`~wf_widgets.widgets.ExportForm` for the image
chosen with *Export this*, whose tiles are the map's selection.

Everything a button does is a method too (:meth:`CatalogBrowser.show_product`,
:meth:`~CatalogBrowser.preview`, :meth:`~CatalogBrowser.export`), so code and tests do what
a click does.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from typing import Any, Callable

import ipyleaflet
import ipywidgets
import traitlets
from shapely.geometry import mapping

from .._cards import png_thumbnail
from ..catalog import Image as CatalogImage
from ..catalog import Product
from ..values.image import Image
from ._base import WidgetBase, check_kwargs, shows_errors
from .export_form import ExportForm
from .tile_map import TileMap

#: Side of the thumbnails, in pixels.
THUMBNAIL = 64
#: Style of the footprints (and of the previewed image's footprint): not the DLTile grid's blue
#: (``_map_grid.TILE_STYLE``), so footprints and grid cells are told apart.
FOOTPRINT_STYLE = {"color": "#7048e8", "weight": 2, "fillOpacity": 0.05}
PREVIEWED_STYLE = {"color": "#ff7800", "weight": 2, "fillOpacity": 0.1}
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


#: The Leaflet pane of the footprints: one of Leaflet's own, above the overlay pane (z-index 500 >
#: 400) where the DLTile grid is drawn, so a click on a footprint reaches it (and previews it)
#: instead of selecting the grid's tile under it.
FOOTPRINTS_PANE = "shadowPane"


class FootprintsLayer(ipyleaflet.GeoJSON):
    """A GeoJSON layer drawn in :data:`FOOTPRINTS_PANE`.

    Its ``pane`` is a Leaflet option (``o=True``) here, given to the layer as it is made: the
    features it holds when first shown go to that pane too (ipyleaflet's own ``pane`` is set
    after, and reaches only features added later).
    """

    pane = traitlets.Unicode(FOOTPRINTS_PANE).tag(sync=True, o=True)


def footprint_style(previewed: str) -> Callable[[dict], dict]:
    """The footprints' ``style_callback``: :data:`PREVIEWED_STYLE` for image ``previewed``, else :data:`FOOTPRINT_STYLE`."""
    return lambda feature: PREVIEWED_STYLE if feature["properties"]["id"] == previewed else FOOTPRINT_STYLE


class CatalogBrowser(WidgetBase, ipywidgets.VBox):
    """Browse the catalog: products you may read, their images (thumbnails, dates, footprints), preview, export.

    Parameters
    ----------
    map : TileMap, optional
        Where footprints and previews go; default a new TileMap (shown under the lists).
    **kwargs
        Public traits (``product_id``, ``max_images``, ``layout``, ...).

    Attributes
    ----------
    product_id : str
        The product shown ("" for none); writable (same as picking it).
    image_ids : list of str
        The images listed, newest first (at most ``max_images``).
    previewed : str
        The image last previewed on the map ("" for none).
    max_images : int
        Most images listed (and drawn) at once.
    export_form : ExportForm or None
        The form of the last *Export this*.
    callback_error : str
        The last error raised in a callback, shown under the browser.
    """

    product_id = traitlets.Unicode("")
    image_ids = traitlets.List(traitlets.Unicode())
    previewed = traitlets.Unicode("")
    max_images = traitlets.Int(50)
    callback_error = traitlets.Unicode("")

    def __init__(self, map: TileMap | None = None, **kwargs: Any) -> None:
        check_kwargs(self, kwargs)
        chosen = kwargs.pop("product_id", "")
        super().__init__(**kwargs)
        self.map = map if map is not None else TileMap()
        self._own_map = map is None
        self.export_form: ExportForm | None = None
        self.product_picker = ipywidgets.Dropdown(description="Product", options=[], value=None,
                                                  style={"description_width": "initial"})
        self.product_picker.add_class("wf-catalog-product")
        self.refresh_button = ipywidgets.Button(description="Refresh", icon="refresh")
        self.product_info = ipywidgets.HTML()
        self.product_info.add_class("wf-catalog-product-info")
        self.image_list = ipywidgets.VBox(layout=ipywidgets.Layout(max_height="360px", overflow="auto"))
        self.image_list.add_class("wf-catalog-images")
        self.export_area = ipywidgets.VBox()
        self.error_line = ipywidgets.HTML()
        self.error_line.add_class("wf-catalog-callback-error")
        # Styled per feature (style_callback), with no layer-wide ``style``: the browser draws a
        # feature with its own style updated by the layer's, which would hide the previewed one.
        self.footprints = FootprintsLayer(data={"type": "FeatureCollection", "features": []}, name="footprints",
                                          style_callback=footprint_style(""), hover_style={"fillOpacity": 0.25})
        self.footprints.on_click(self._on_footprint_click)
        self.map.add(self.footprints)
        children = [ipywidgets.HBox([self.product_picker, self.refresh_button]), self.product_info, self.image_list]
        self.children = children + ([self.map] if self._own_map else []) + [self.export_area, self.error_line]
        self.add_class("wf-catalog-browser")
        self.product_picker.observe(self._on_pick, names=["value"])
        self.refresh_button.on_click(self._on_refresh)
        self.refresh()
        if chosen:
            self.product_id = chosen

    # -- products ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """List again the products the user may read (and the shown product's images)."""
        products = Product.search()
        self.product_picker.options = [(f"{p.name or p.id} ({p.id})", p.id) for p in products]
        ids = [p.id for p in products]
        if self.product_id in ids:
            self.product_picker.value = self.product_id
            self.show_product(self.product_id)
        elif self.product_id:
            self.product_id = ""

    @traitlets.observe("product_id")
    def _on_product_id(self, change: dict) -> None:
        self.show_product(change["new"])

    @shows_errors
    def _on_pick(self, change: dict) -> None:
        if change["new"] is not None and change["new"] != self.product_id:
            self.product_id = change["new"]

    @shows_errors
    def _on_refresh(self, _button: Any = None) -> None:
        self.refresh()

    def show_product(self, product_id: str) -> None:
        """List the images of ``product_id`` (newest first), draw their footprints and fit the map to them."""
        if not product_id:
            self.image_ids, self.image_list.children, self.product_info.value = [], (), ""
            self.footprints.data = {"type": "FeatureCollection", "features": []}
            return
        product = Product.get(product_id)
        if product is None:
            raise ValueError(f"Product {product_id!r} does not exist")
        if self.product_picker.value != product_id:
            self.product_picker.value = product_id
        images = [i for i in product.images() if i.files]
        images.sort(key=lambda i: (i.acquired or i.created or _EPOCH, i.name), reverse=True)
        shown = images[: self.max_images]
        bands = ", ".join(b.name for b in product.bands())
        more = f" (the newest {len(shown)} listed)" if len(images) > len(shown) else ""
        self.product_info.value = (f"<b>{html.escape(product.name or product.id)}</b>: {len(images)} image(s)"
                                   f"{more}; bands {html.escape(bands) or '(none)'}")
        features = []
        for image in shown:
            geometry = image.geometry
            if geometry is not None:
                features.append({"type": "Feature", "geometry": mapping(geometry),
                                 "properties": {"id": image.id, "name": image.name,
                                                "acquired": image.acquired.isoformat() if image.acquired else None}})
        self.footprints.data = {"type": "FeatureCollection", "features": features}
        self.image_list.children = [self._row(image) for image in shown]
        self.image_ids = [image.id for image in shown]
        self.previewed = ""
        if features:
            lons = [x for f in features for x, _ in f["geometry"]["coordinates"][0]]
            lats = [y for f in features for _, y in f["geometry"]["coordinates"][0]]
            self._show_bounds(min(lons), min(lats), max(lons), max(lats))

    def _show_bounds(self, west: float, south: float, east: float, north: float) -> None:
        # Center and zoom set here: ipyleaflet's fit_bounds waits on an asyncio future for the
        # browser's view, which fails where no event loop runs and is lost if no view is shown.
        span = max(east - west, (north - south) * 2, 1e-9)  # (a degree of latitude reads about twice as tall, mid-latitudes)
        self.map.center = ((south + north) / 2, (west + east) / 2)
        self.map.zoom = max(1, min(18, int(math.log2(360 / span))))

    # -- images ------------------------------------------------------------------------------------
    def _row(self, image: CatalogImage) -> ipywidgets.HBox:
        thumb = ipywidgets.Image(format="png", width=THUMBNAIL, height=THUMBNAIL)
        try:
            thumb.value = png_thumbnail(image.ndarray(max_size=THUMBNAIL), max_size=THUMBNAIL)
        except Exception:  # an unreadable file: a row without a picture
            thumb.layout.visibility = "hidden"
        thumb.add_class("wf-catalog-thumbnail")
        when = image.acquired.strftime("%Y-%m-%d %H:%M") if image.acquired else "no date"
        label = ipywidgets.HTML(f"<b>{html.escape(image.name)}</b><br>{when}"
                                + (" &middot; in place" if image.referenced else ""))
        preview = ipywidgets.Button(description="Preview", icon="eye", layout=ipywidgets.Layout(width="auto"))
        preview.on_click(lambda _b, image_id=image.id: self._on_preview(image_id))
        export = ipywidgets.Button(description="Export this", icon="download", layout=ipywidgets.Layout(width="auto"))
        export.on_click(lambda _b, image_id=image.id: self._on_export(image_id))
        row = ipywidgets.HBox([thumb, label, preview, export], layout=ipywidgets.Layout(align_items="center"))
        row.add_class("wf-catalog-image")
        return row

    def preview(self, image_id: str) -> Any:
        """Show image ``image_id`` as a layer of the map (named after the image; a new preview replaces it)."""
        layer = self.map.preview(Image.from_id(image_id), name=image_id.rsplit(":", 1)[-1])
        self.previewed = image_id
        return layer

    def export(self, image_id: str) -> ExportForm:
        """An ExportForm for image ``image_id`` over the map's selected tiles, shown under the browser."""
        if self.export_form is not None:
            self.export_form.close()
        title = ipywidgets.HTML(f"<b>Export {html.escape(image_id)}</b> (select tiles on the map)")
        self.export_form = ExportForm(Image.from_id(image_id), self.map, value_name="image", geoctx_name="tiles")
        self.export_area.children = [title, self.export_form]
        return self.export_form

    @shows_errors
    def _on_preview(self, image_id: str) -> None:
        self.preview(image_id)

    @shows_errors
    def _on_export(self, image_id: str) -> None:
        self.export(image_id)

    @shows_errors
    def _on_footprint_click(self, feature: dict | None = None, **_: Any) -> None:
        if feature and feature.get("properties", {}).get("id"):
            self.preview(feature["properties"]["id"])

    @traitlets.observe("previewed")
    def _on_previewed(self, change: dict) -> None:
        self.footprints.style_callback = footprint_style(change["new"])  # (re)styles every footprint

    @traitlets.observe("callback_error")
    def _on_callback_error(self, change: dict) -> None:
        self.error_line.value = (f'<span style="color:#b00">{html.escape(change["new"])}</span>'
                                 if change["new"] else "")

    def close(self) -> None:
        """Close the browser, its form, and the map it made."""
        form = self.__dict__.get("export_form")  # None, or absent when __init__ refused its arguments
        if form is not None:
            form.close()
        if self.__dict__.get("_own_map"):
            self.map.close()
        super().close()
