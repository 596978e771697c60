"""Plain-text listing of the catalog (the ``wf-widgets catalog`` command prints it)."""

from __future__ import annotations

from typing import Any

from .._context import BackendLike
from . import access
from .files import is_referenced


def _band_line(band: dict[str, Any]) -> str:
    extras = [band["type"], band.get("data_type") or "?"]
    if band.get("nodata") is not None:
        extras.append(f"nodata={band['nodata']}")
    if (band.get("attrs") or {}).get("is_alpha"):
        extras.append("alpha")
    return f"    {band['band_index']}: {band['name']} ({', '.join(extras)})"


def _image_line(image: dict[str, Any]) -> str:
    parts = [image["name"]]
    if image.get("acquired") is not None:
        parts.append(f"acquired {image['acquired']:%Y-%m-%dT%H:%M:%SZ}")
    if image.get("x_pixels"):
        parts.append(f"{image['x_pixels']}x{image['y_pixels']} px")
    if image.get("cs_code"):
        parts.append(image["cs_code"])
    files = image.get("files") or []
    if any(is_referenced(f["href"]) for f in files):
        parts.append(f"{len(files)} file(s) read in place" if len(files) > 1 else "file read in place")
    else:
        parts.append("file" if files else "no file")
    return "    " + "  ".join(parts)


def catalog_listing(backend: BackendLike) -> str:
    """Text listing of the products the backend's user may read, with their bands and images.

    Parameters
    ----------
    backend : BackendLike
        Its ``catalog`` store and ``settings.user`` are used.

    Returns
    -------
    str
        One block per product (id, name, access lists, bands, images), lines ending in ``\\n``.
    """
    store = backend.catalog
    settings = store.settings
    products = [p for p in store.list_products() if access.has_right(settings, p, "read")]
    lines = [f"Catalog {store.root} (as {settings.user}): {len(products)} product(s)"]
    for product in products:
        lines.append("")
        lines.append(f"{product['id']}  {product.get('name') or ''}".rstrip())
        if product.get("description"):
            lines.append(f"  {product['description']}")
        for key in ("owners", "writers", "readers"):
            if product.get(key):
                lines.append(f"  {key}: {', '.join(product[key])}")
        bands = store.list_bands(product["id"])
        lines.append(f"  bands ({len(bands)}):")
        lines.extend(_band_line(b) for b in bands)
        images = store.list_images(product["id"])
        lines.append(f"  images ({len(images)}):")
        lines.extend(_image_line(i) for i in images)
    return "\n".join(lines) + "\n"
