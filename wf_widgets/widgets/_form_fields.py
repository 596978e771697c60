"""What the ExportForm offers, built from the one table (:mod:`wf_widgets.outputs.registry`).

* :func:`destination_choices`: the destinations ``normalize()`` accepts for a kind, and the
  others with its reason; :func:`excluded_html` lists the latter.
* :func:`option_walk`: THE walk over the options of a destination and a format; the form
  builds its fields, the dicts it launches with and its "Show code" text from it.
* :func:`notify_fields`: the fields of ``notify=`` and ``retries=`` (not options of a
  destination: any job may have them), and :func:`notify_spec`, the ``notify=`` they give;
* :func:`option_field`: the field of one :class:`~wf_widgets.outputs.registry.Option`;
  :class:`ImagePicker`: the field of the catalog ``image`` option, offering the products the
  value fits (:func:`upload_problem`: the catalog destination's own checks).
"""

from __future__ import annotations

import html
import json
from typing import Any, Callable, Iterator, Sequence

import ipywidgets

from ..backend import get_backend
from ..catalog import Product
from ..catalog.access import has_right
from ..delivery.catalog_target import check_data_type, check_upload
from ..errors import PermissionDenied, ValidationError, WfError
from ..jobs.plan import MAX_RETRIES
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


def notify_fields() -> tuple[ipywidgets.Text, ipywidgets.Checkbox, ipywidgets.BoundedIntText]:
    """The fields of ``compute(notify=..., retries=...)``: webhook URL, email, retries (empty, off, 0)."""
    webhook = ipywidgets.Text(
        value="", placeholder="https://... (optional)", description="Notify webhook", style=WIDE,
        tooltip="POST a signed JSON event to this URL when the job ends (compute(notify={'webhook': url}))")
    webhook.add_class("wf-export-notify-webhook")
    email = ipywidgets.Checkbox(value=False, indent=False, description="Email me when it ends", style=WIDE,
                                tooltip="Email the outcome to WF_WIDGETS_EMAIL (compute(notify={'email': True}))")
    email.add_class("wf-export-notify-email")
    retries = ipywidgets.BoundedIntText(
        value=0, min=0, max=MAX_RETRIES, description="Retries", style=WIDE,
        tooltip="Attempts after the first when one fails transiently (compute(retries=N))")
    retries.add_class("wf-export-retries")
    return webhook, email, retries


def notify_spec(webhook: str, email: bool) -> dict | None:
    """The ``notify=`` the fields give (None when nothing is asked)."""
    spec: dict[str, Any] = {}
    if webhook.strip():
        spec["webhook"] = webhook.strip()
    if email:
        spec["email"] = True
    return spec or None


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


def upload_problem(product_id: str, names: Sequence[str] | None, format: dict, change_dtype: bool,
                   image_name: str = "image") -> WfError | None:
    """Why an Image with bands ``names`` can't be uploaded into ``product_id`` with these options, or None.

    The catalog destination's own checks (:func:`~wf_widgets.delivery.catalog_target.check_upload`,
    which its preflight runs) and :func:`~wf_widgets.delivery.catalog_target.check_data_type`;
    the image's absence is the validation line's business.
    """
    try:
        target = check_upload(get_backend().catalog, product_id, image_name, names, format)
        check_data_type(target, change_dtype)
    except (ValidationError, PermissionDenied) as exc:
        return exc
    return None


class ImagePicker(ipywidgets.VBox):
    """The catalog ``image`` option: a product the Image fits, an image name template.

    The picker offers the products the current user may write whose bands take the value
    (:func:`upload_problem`) and lists the others under it with the reason; it starts with
    no product chosen (:data:`CHOOSE`).

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
        Its value is a product id, or ``""`` (:data:`CHOOSE`): none chosen.
    product_refresh : ipywidgets.Button
    image_name : ipywidgets.Text
        The template; ``{tile_key}`` is the only field.
    excluded_products : ipywidgets.HTML
        The writable products the Image doesn't fit, with the reason.
    extra : dict
        Fields of the catalog Image other than its name and product (``acquired``,
        ``extra_properties``, ...), from an Image written to the form's ``destination``;
        shown under the picker.
    """

    #: The picker's value while no product is chosen.
    CHOOSE = ""

    def __init__(self, opt: Option, on_change: Callable[[Any], None], on_refresh: Callable[[Any], None]) -> None:
        self.product_picker = ipywidgets.Dropdown(description="product", tooltip=opt.help, style=WIDE,
                                                  options=[("(choose a product)", self.CHOOSE)], value=self.CHOOSE)
        self.product_picker.add_class("wf-export-product")
        self.product_refresh = ipywidgets.Button(icon="refresh", tooltip="List the products again",
                                                 layout=ipywidgets.Layout(width="36px"))
        self.image_name = ipywidgets.Text(value="{tile_key}", description="image name", tooltip=TEMPLATE_HELP,
                                          style=WIDE)
        self.image_name.add_class("wf-export-image-name")
        self.excluded_products = ipywidgets.HTML()
        self.excluded_products.add_class("wf-export-excluded-products")
        self.extra_line = ipywidgets.HTML()
        self.extra_line.add_class("wf-export-image-extra")
        self.extra: dict = {}
        self._listed: tuple | None = None  # what the last listing depended on
        self.product_picker.observe(on_change, names=["value"])
        self.image_name.observe(on_change, names=["value"])
        self.product_refresh.on_click(on_refresh)
        super().__init__([
            ipywidgets.HBox([self.product_picker, self.product_refresh]), self.excluded_products, self.image_name,
            ipywidgets.HTML(f'<span style="color:var(--jp-ui-font-color2,#666)">{html.escape(TEMPLATE_HELP)}</span>'),
            self.extra_line,
        ])
        self.add_class(f"wf-export-option-{opt.name}")

    @property
    def product(self) -> str | None:
        """The chosen product id, or None."""
        return self.product_picker.value or None

    def list_products(self, names: Sequence[str] | None, format: dict, change_dtype: bool,
                      force: bool = False) -> None:
        """Offer the products the current user may write that an Image with bands ``names`` fits.

        ``format`` and ``change_dtype`` are the form's (the rules depend on them). The others
        are listed under the picker with the reason. The chosen product stays chosen while
        it is offered, else none is. Nothing is read again while the arguments (and the
        backend) are those of the last listing, unless ``force``.
        """
        key = (id(get_backend()), tuple(names) if names is not None else None,
               json.dumps(format, sort_keys=True, default=str), bool(change_dtype))
        if key == self._listed and not force:
            return
        settings = get_backend().settings
        offered, excluded = [], []
        for product in Product.search():
            if not has_right(settings, product.to_dict(), "write"):
                continue  # not a candidate at all: someone else's product
            problem = upload_problem(product.id, names, format, change_dtype)
            if problem is None:
                offered.append(product.id)
            else:
                excluded.append((product.id, str(problem)))
        current = self.product_picker.value
        self.product_picker.options = [("(choose a product)", self.CHOOSE)] + [(pid, pid) for pid in offered]
        self.product_picker.value = current if current in offered else self.CHOOSE
        self.excluded_products.value = excluded_html(excluded)
        self._listed = key

    def set_image(self, image: dict) -> None:
        """Show a catalog Image's normal form: its product (which must be offered), its name, the rest in :attr:`extra`.

        The name becomes a template that gives exactly it (braces doubled).
        """
        if image["product_id"] not in [value for _label, value in self.product_picker.options]:
            raise ValueError(f"product {image['product_id']!r} is not offered")  # callers check upload_problem first
        self.product_picker.value = image["product_id"]
        self.image_name.value = image["name"].replace("{", "{{").replace("}", "}}")
        self.extra = {k: v for k, v in image.items() if k not in ("id", "name", "product_id")}
        self.extra_line.value = (
            '<span style="color:var(--jp-ui-font-color2,#666)">The image also gets: '
            + html.escape(", ".join(f"{k}={v!r}" for k, v in self.extra.items())) + "</span>") if self.extra else ""
