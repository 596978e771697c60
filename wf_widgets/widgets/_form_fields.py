"""What the ExportForm offers, built from the one table (:mod:`wf_widgets.outputs.registry`).

* :func:`destination_choices`: the destinations ``normalize()`` accepts for a kind, and the
  others with its reason; :func:`excluded_html` lists the latter.
* :func:`option_walk`: THE walk over the options of a destination and a format; the form
  builds its fields, the dicts it launches with and its "Show code" text from it.
* :func:`option_field`: the field of one :class:`~wf_widgets.outputs.registry.Option`;
  :class:`ImagePicker`: the field of the catalog ``image`` option.
"""

from __future__ import annotations

import html
from typing import Any, Callable, Iterator

import ipywidgets

from ..backend import get_backend
from ..catalog import Product
from ..catalog.access import has_right
from ..errors import ValidationError
from ..outputs.normalize import normalize
from ..outputs.registry import DEFAULT_FORMAT, DESTINATIONS, FORMATS, REQUIRED, Option

#: Style of fields whose description may be long.
WIDE = {"description_width": "initial"}
TEMPLATE_HELP = '{tile_key} is the tile key with ":" replaced by "_"'
#: The option type of the catalog destination's ``image`` (an :class:`ImagePicker`).
IMAGE_OPTION = "catalog.Image"


def destination_choices(kind: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(destinations normalize() accepts for ``kind``, [(excluded, normalize()'s reason)])."""
    allowed, excluded = [], []
    for name in DESTINATIONS:
        try:
            normalize({"type": name}, DEFAULT_FORMAT, kind)
        except ValidationError as exc:
            if exc.field == "destination":
                excluded.append((name, str(exc)))
                continue
        allowed.append(name)
    return allowed, excluded


def excluded_html(excluded: list[tuple[str, str]]) -> str:
    """A "Not available" list of ``(title, reason)``; empty when there are none."""
    if not excluded:
        return ""
    items = "".join(f"<li>{html.escape(title)}: {html.escape(reason)}</li>" for title, reason in excluded)
    return f'<div style="color:var(--jp-ui-font-color2,#666)">Not available:<ul style="margin:0">{items}</ul></div>'


def option_walk(destination: str | None, fmt: str | None) -> Iterator[tuple[str, str, Option]]:
    """``(section, owner, option)`` for each option of ``destination``, then of ``fmt`` (None: skipped).

    ``section`` is ``"destination"`` or ``"format"``; ``owner`` the destination's or
    format's name. The fields of the form are keyed by ``(section, owner, option.name)``.
    """
    if destination is not None:
        for opt in DESTINATIONS[destination].options:
            yield "destination", destination, opt
    if fmt:
        for opt in FORMATS[fmt].options:
            yield "format", fmt, opt


def option_field(opt: Option) -> Any:
    """The field of an option (not the catalog image: :class:`ImagePicker`), at its default.

    bool: Checkbox; enum: Dropdown; str: Text, or Textarea for multi-line strings; another
    type: a line saying the form does not support it.
    """
    default = None if opt.default is REQUIRED else opt.default
    common = {"description": opt.name, "tooltip": opt.description, "style": WIDE}
    if opt.type == "bool":
        field = ipywidgets.Checkbox(value=bool(default), indent=False, **common)
    elif opt.type == "enum":
        field = ipywidgets.Dropdown(options=list(opt.allowed), value=default, **common)
    elif opt.type == "str":
        cls = ipywidgets.Text if opt.single_line else ipywidgets.Textarea
        field = cls(value=default or "", **common)
    else:  # an option type the form doesn't know: say so rather than guess
        field = ipywidgets.HTML(f"{html.escape(opt.name)}: option type {html.escape(opt.type)!s} "
                                "is not supported by the form")
    field.add_class(f"wf-export-option-{opt.name}")
    return field


class ImagePicker(ipywidgets.VBox):
    """The catalog ``image`` option: a product the current user may write to, an image name template.

    Parameters
    ----------
    opt : Option
        The option (its help is the picker's tooltip).
    on_change : callable
        Observer of the product and the template.
    on_refresh : callable
        Click handler of the refresh button (which should call :meth:`list_products`).

    Attributes
    ----------
    product_picker : ipywidgets.Dropdown
    product_refresh : ipywidgets.Button
    image_name : ipywidgets.Text
        The template; ``{tile_key}`` is the only field.
    """

    def __init__(self, opt: Option, on_change: Callable[[Any], None], on_refresh: Callable[[Any], None]) -> None:
        self.product_picker = ipywidgets.Dropdown(description="product", tooltip=opt.help, style=WIDE)
        self.product_picker.add_class("wf-export-product")
        self.product_refresh = ipywidgets.Button(icon="refresh", tooltip="List the products again",
                                                 layout=ipywidgets.Layout(width="36px"))
        self.image_name = ipywidgets.Text(value="{tile_key}", description="image name", tooltip=TEMPLATE_HELP,
                                          style=WIDE)
        self.image_name.add_class("wf-export-image-name")
        self.product_picker.observe(on_change, names=["value"])
        self.image_name.observe(on_change, names=["value"])
        self.product_refresh.on_click(on_refresh)
        self.list_products()
        super().__init__([
            ipywidgets.HBox([self.product_picker, self.product_refresh]), self.image_name,
            ipywidgets.HTML(f'<span style="color:var(--jp-ui-font-color2,#666)">{html.escape(TEMPLATE_HELP)}</span>'),
        ])
        self.add_class(f"wf-export-option-{opt.name}")

    def list_products(self) -> None:
        """Fill the product picker with the products the current user may write to."""
        settings = get_backend().settings
        ids = [p.id for p in Product.search() if has_right(settings, p.to_dict(), "write")]
        current = self.product_picker.value
        self.product_picker.options = ids
        self.product_picker.value = current if current in ids else (ids[0] if ids else None)
