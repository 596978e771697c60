"""ExportForm: choose a destination, a format and their options, then launch jobs.

Every choice the form offers and every message it shows comes from the one table
(:mod:`wf_widgets.outputs.registry`) through the functions ``compute()`` uses:

* the destination dropdown lists the destinations ``normalize()`` accepts for the value's
  kind; the others are listed with the reason ``normalize()`` gives;
* the format dropdown lists the formats :func:`~wf_widgets.outputs.normalize.format_choices`
  allows for the destination and kind; each excluded one is listed with its reason;
* one field per :class:`~wf_widgets.outputs.registry.Option` of the chosen destination and
  format (bool: Checkbox, enum: Dropdown, str: Text, or a text area for multi-line
  strings; the catalog ``image`` option: a picker of the products the user may write and
  an image name template);
* on every change the form calls ``normalize()``, then checks the geocontext as
  ``launch()`` does, then ``preflight()``; the validation line shows ``str()`` of what
  ``compute()`` would raise, and Compute stays disabled until nothing would.

Decisions:

* ``geoctx`` may be None (non-imagery values), one GeoContext (a DLTile or an AOI), a list
  of them (one job each), or an object with a ``selected_tiles`` property (a TileMap; its
  ``selected_keys`` trait is observed when it has one).
* The image name template knows one field, ``{tile_key}``: the DLTile key with ``":"``
  replaced by ``"_"`` (``"geoctx"`` for a context without a key). With several tiles the
  names must differ, so the template must use ``{tile_key}``.
* Validation runs for the first context on every change, and for every context when
  Compute is clicked, before any job is launched: jobs of a batch are launched all or
  none (short of a failure while launching).
* The variable names in "Show code" are found in the caller's namespace when the form is
  built (``ExportForm(composite, tile)`` shows ``composite.compute(tile, ...)``); else
  ``value`` and ``tile`` / ``tiles``. The ``value_name`` and ``geoctx_name`` traits set them.
* Estimates count float64 pixels in memory (results are float64); band counts come from
  the static band rules of :mod:`wf_widgets.engine.static` (unknown when they can't be
  known before computing).
"""

from __future__ import annotations

import html
import json
import logging
import sys
from typing import Any

import ipywidgets
import traitlets

from ..errors import ValidationError, WfError
from ..jobs.compute import check_geocontext
from ..outputs.normalize import format_choices, normalize, preflight
from ..outputs.registry import DEFAULT_DESTINATION, DEFAULT_FORMAT, DESTINATIONS, FORMATS, REQUIRED, Option
from ._base import WidgetBase, check_kwargs, shows_errors
from .jobs_board import JobsBoard

log = logging.getLogger("wf_widgets.widgets")

IMAGE_KINDS = ("Image", "ImageCollection")
#: Bytes per pixel and band of computed imagery (float64).
BYTES_PER_SAMPLE = 8
TEMPLATE_HELP = '{tile_key} is the tile key with ":" replaced by "_"'
_WIDE = {"description_width": "initial"}


class _Code(str):
    """Python source text to print as is in "Show code"."""


def _py(obj: Any) -> str:
    """Python source of a JSON-like value (double-quoted strings, True/False/None)."""
    if isinstance(obj, _Code):
        return str(obj)
    if obj is None or isinstance(obj, bool):
        return repr(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, (int, float)):
        return repr(obj)
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(_py(v) for v in obj) + "]"
    return repr(obj)


def _caller_name(obj: Any, frame: Any) -> str | None:
    """A public name bound to ``obj`` in ``frame`` (locals first, then globals), or None."""
    if frame is None or obj is None:
        return None
    for namespace in (frame.f_locals, frame.f_globals):
        for name, bound in list(namespace.items()):
            if bound is obj and name.isidentifier() and not name.startswith("_") and name not in ("In", "Out"):
                return name
    return None


def _human_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"  # pragma: no cover


def _static_bands(value: Any, backend: Any) -> list[str] | None:
    """Band names of an imagery value known before computing, or None (unknown)."""
    try:
        from ..engine import static
        from ..engine.reading import CatalogReader
    except ImportError:
        return None
    try:
        info = static.infer(value._node, CatalogReader.for_backend(backend))
    except Exception as exc:  # a problem compute() reports itself; here the bands are just unknown
        log.debug("no static bands: %s", exc)
        return None
    return list(info.bands) if info is not None and info.bands is not None else None


class ExportForm(WidgetBase, ipywidgets.VBox):
    """A form to compute a value: destination, format, options, validation, Compute.

    Parameters
    ----------
    value : Value
        What to compute (``value.kind`` decides the formats offered).
    geoctx : DLTile, AOI, list of them, TileMap or None
        Where to compute; a list (or a TileMap's selected tiles) launches one job per tile.
    **kwargs
        Public traits (``value_name``, ``geoctx_name``, ``layout``, ...); anything else
        raises ``TypeError``.

    Attributes
    ----------
    destination : dict
        The normalised destination (what ``normalize()`` returns for the first context),
        ``{}`` while the choice can't be normalised.
    format : dict
        The normalised format, ``{}`` likewise.
    valid : bool
        True when ``compute()`` with these choices would start (nothing raised by
        ``normalize()``, the geocontext check or ``preflight()``).
    error : str
        ``str()`` of the exception ``compute()`` would raise, or ``""``.
    estimate : dict
        For Image and ImageCollection values: ``jobs``, ``pixels`` (all jobs),
        ``pixels_per_job``, ``bands`` (None if unknown), ``band_names``, ``bytes`` (float64,
        None if unknown; per image for an ImageCollection) and ``per_image``. Else ``{}``.
    code : str
        The equivalent ``value.compute(...)`` call (shown by "Show code").
    show_code : bool
        Show ``code`` under the form.
    value_name, geoctx_name : str
        Variable names used in ``code``.
    callback_error : str
        The last error raised in a callback (e.g. while launching), shown under the form.
    jobs : list of Job
        Every job launched by the form (a plain list, not a trait); shown in :attr:`board`.
    board : JobsBoard
        The board under the form.
    """

    destination = traitlets.Dict()
    format = traitlets.Dict()
    valid = traitlets.Bool(False)
    error = traitlets.Unicode("")
    estimate = traitlets.Dict()
    code = traitlets.Unicode("")
    show_code = traitlets.Bool(False)
    value_name = traitlets.Unicode("value")
    geoctx_name = traitlets.Unicode("tile")
    callback_error = traitlets.Unicode("")

    def __init__(self, value: Any, geoctx: Any = None, **kwargs: Any) -> None:
        check_kwargs(self, kwargs)
        from ..values.base import Value, promote

        if not isinstance(value, Value):
            value = promote(value)
        frame = sys._getframe(1)
        kwargs.setdefault("value_name", _caller_name(value, frame) or "value")
        kwargs.setdefault("geoctx_name", self._default_geoctx_name(geoctx, frame))
        del frame
        super().__init__(**kwargs)
        self.value = value
        self.geoctx = geoctx
        self.jobs: list = []
        self._fields: dict[tuple[str, str, str], Any] = {}
        self._building = False
        self._bands: list[str] | None = None
        self._bands_known = False

        kind = value.kind
        allowed, excluded = self._destination_choices(kind)
        self.destination_dropdown = ipywidgets.Dropdown(
            options=[(DESTINATIONS[d].title, d) for d in allowed],
            value=DEFAULT_DESTINATION if DEFAULT_DESTINATION in allowed else (allowed[0] if allowed else None),
            description="Destination", style=_WIDE)
        self.destination_dropdown.add_class("wf-export-destination")
        self.excluded_destinations = ipywidgets.HTML(
            self._excluded_html([(DESTINATIONS[name].title, why) for name, why in excluded]))
        self.excluded_destinations.add_class("wf-export-excluded-destinations")
        self.format_dropdown = ipywidgets.Dropdown(description="Format", style=_WIDE)
        self.format_dropdown.add_class("wf-export-format")
        self.excluded_formats = ipywidgets.HTML()
        self.excluded_formats.add_class("wf-export-excluded-formats")
        self.destination_options = ipywidgets.VBox()
        self.format_options = ipywidgets.VBox()
        self.estimate_line = ipywidgets.HTML()
        self.estimate_line.add_class("wf-export-estimate")
        self.validation_line = ipywidgets.HTML()
        self.validation_line.add_class("wf-export-validation")
        self.compute_button = ipywidgets.Button(description="Compute", button_style="primary", disabled=True,
                                                icon="play")
        self.compute_button.add_class("wf-export-compute")
        self.code_toggle = ipywidgets.ToggleButton(description="Show code", value=self.show_code, icon="code")
        self.code_toggle.add_class("wf-export-show-code")
        self.code_view = ipywidgets.HTML(layout=ipywidgets.Layout(display="none"))
        self.code_view.add_class("wf-export-code")
        self.error_line = ipywidgets.HTML()
        self.error_line.add_class("wf-export-callback-error")
        self.board = JobsBoard()

        self.children = [
            self.destination_dropdown, self.excluded_destinations, self.format_dropdown, self.excluded_formats,
            self.destination_options, self.format_options, self.estimate_line, self.validation_line,
            ipywidgets.HBox([self.compute_button, self.code_toggle]), self.code_view, self.error_line, self.board,
        ]
        self.add_class("wf-export-form")

        traitlets.link((self.code_toggle, "value"), (self, "show_code"))
        self.destination_dropdown.observe(self._on_destination, names=["value"])
        self.format_dropdown.observe(self._on_format, names=["value"])
        self.compute_button.on_click(self._on_compute)
        if hasattr(geoctx, "selected_tiles") and hasattr(geoctx, "has_trait") and geoctx.has_trait("selected_keys"):
            geoctx.observe(self._on_tiles, names=["selected_keys"])
        self._on_destination()
        self._on_show_code({"new": self.show_code})
        self._on_callback_error({"new": self.callback_error})

    # -- what the form offers --------------------------------------------------------------------
    @staticmethod
    def _destination_choices(kind: str) -> tuple[list[str], list[tuple[str, str]]]:
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

    @staticmethod
    def _excluded_html(excluded: list[tuple[str, str]]) -> str:
        if not excluded:
            return ""
        items = "".join(f"<li>{html.escape(title)}: {html.escape(reason)}</li>" for title, reason in excluded)
        return f'<div style="color:var(--jp-ui-font-color2,#666)">Not available:<ul style="margin:0">{items}</ul></div>'

    def _default_geoctx_name(self, geoctx: Any, frame: Any) -> str:
        if isinstance(geoctx, (list, tuple)):
            return _caller_name(geoctx, frame) or "tiles"
        if hasattr(geoctx, "selected_tiles"):
            return f"{_caller_name(geoctx, frame) or 'tile_map'}.selected_tiles"
        return _caller_name(geoctx, frame) or "tile"

    def _many(self) -> bool:
        """One job per item of a list (or of a TileMap's selection)."""
        return isinstance(self.geoctx, (list, tuple)) or hasattr(self.geoctx, "selected_tiles")

    def _contexts(self) -> list:
        g = self.geoctx
        if isinstance(g, (list, tuple)):
            return list(g)
        if hasattr(g, "selected_tiles"):
            return list(g.selected_tiles)
        return [g]

    def option_widget(self, section: str, name: str) -> Any:
        """The field of option ``name`` of the chosen ``section`` (``"destination"`` or ``"format"``)."""
        owner = self.destination_dropdown.value if section == "destination" else self.format_dropdown.value
        return self._fields[(section, owner, name)]

    # -- building fields ------------------------------------------------------------------------------
    def _option_field(self, section: str, owner: str, opt: Option) -> Any:
        key = (section, owner, opt.name)
        field = self._fields.get(key)
        if field is not None:
            return field
        default = None if opt.default is REQUIRED else opt.default
        common = {"description": opt.name, "tooltip": opt.help, "style": _WIDE}
        if opt.type == "bool":
            field = ipywidgets.Checkbox(value=bool(default), indent=False, **common)
        elif opt.type == "enum":
            field = ipywidgets.Dropdown(options=list(opt.allowed), value=default, **common)
        elif opt.type == "str":
            cls = ipywidgets.Text if opt.single_line else ipywidgets.Textarea
            field = cls(value=default or "", **common)
        elif opt.type == "catalog.Image":
            field = self._image_picker(opt)
        else:  # an option type the form doesn't know: say so rather than guess
            field = ipywidgets.HTML(f"{html.escape(opt.name)}: option type {html.escape(opt.type)!s} "
                                    "is not supported by the form")
        field.add_class(f"wf-export-option-{opt.name}")
        if opt.type != "catalog.Image":
            field.observe(self._on_field, names=["value"])
        self._fields[key] = field
        return field

    def _image_picker(self, opt: Option) -> Any:
        self.product_picker = ipywidgets.Dropdown(description="product", tooltip=opt.help, style=_WIDE)
        self.product_picker.add_class("wf-export-product")
        self.product_refresh = ipywidgets.Button(icon="refresh", tooltip="List the products again",
                                                 layout=ipywidgets.Layout(width="36px"))
        self.image_name = ipywidgets.Text(value="{tile_key}", description="image name", tooltip=TEMPLATE_HELP,
                                          style=_WIDE)
        self.image_name.add_class("wf-export-image-name")
        self.product_picker.observe(self._on_field, names=["value"])
        self.image_name.observe(self._on_field, names=["value"])
        self.product_refresh.on_click(self._on_refresh_products)
        self._list_products()
        return ipywidgets.VBox([
            ipywidgets.HBox([self.product_picker, self.product_refresh]), self.image_name,
            ipywidgets.HTML(f'<span style="color:var(--jp-ui-font-color2,#666)">{html.escape(TEMPLATE_HELP)}</span>'),
        ])

    def _list_products(self) -> None:
        """Fill the product picker with the products the current user may write to."""
        from ..backend import get_backend
        from ..catalog import Product
        from ..catalog.access import has_right

        settings = get_backend().settings
        ids = [p.id for p in Product.search() if has_right(settings, p.to_dict(), "write")]
        current = self.product_picker.value
        self.product_picker.options = ids
        self.product_picker.value = current if current in ids else (ids[0] if ids else None)

    @shows_errors
    def _on_refresh_products(self, _button: Any = None) -> None:
        self._list_products()
        self._update()

    # -- observers -----------------------------------------------------------------------------------
    @shows_errors
    def _on_destination(self, change: Any = None) -> None:
        self._building = True
        try:
            dest = self.destination_dropdown.value
            if dest is None:
                self.format_dropdown.options = []
                self.excluded_formats.value = ""
            else:
                choices = format_choices(dest, self.value.kind)
                allowed = [name for name, why in choices if why is None]
                current = self.format_dropdown.value
                self.format_dropdown.options = [(FORMATS[name].title, name) for name in allowed]
                self.format_dropdown.value = (current if current in allowed else
                                              DEFAULT_FORMAT if DEFAULT_FORMAT in allowed else
                                              allowed[0] if allowed else None)
                self.excluded_formats.value = self._excluded_html(
                    [(FORMATS[name].title, why) for name, why in choices if why is not None])
                self.destination_options.children = [
                    self._option_field("destination", dest, opt) for opt in DESTINATIONS[dest].options]
            self._build_format_options()
        finally:
            self._building = False
        self._update()

    @shows_errors
    def _on_format(self, change: Any = None) -> None:
        if self._building:
            return
        self._build_format_options()
        self._update()

    def _build_format_options(self) -> None:
        fmt = self.format_dropdown.value
        self.format_options.children = (
            [self._option_field("format", fmt, opt) for opt in FORMATS[fmt].options] if fmt else [])

    @shows_errors
    def _on_field(self, change: Any = None) -> None:
        if not self._building:
            self._update()

    @shows_errors
    def _on_tiles(self, change: Any = None) -> None:
        self._update()

    @traitlets.observe("show_code")
    def _on_show_code(self, change: dict) -> None:
        if hasattr(self, "code_view"):
            self.code_view.layout.display = None if change["new"] else "none"

    @traitlets.observe("callback_error")
    def _on_callback_error(self, change: dict) -> None:
        if hasattr(self, "error_line"):
            text = change["new"]
            self.error_line.value = (f'<div style="color:var(--jp-error-color1,#b71c1c);white-space:pre-wrap">'
                                     f"{html.escape(text)}</div>") if text else ""

    @traitlets.observe("value_name", "geoctx_name")
    def _on_names(self, change: dict) -> None:
        if hasattr(self, "code_view"):
            self._update()

    # -- specs, validation, code ---------------------------------------------------------------------
    def _image_name_for(self, ctx: Any) -> str:
        template = self.image_name.value
        key = getattr(ctx, "key", None)
        try:
            return template.format_map({"tile_key": key.replace(":", "_") if key else "geoctx"})
        except (KeyError, ValueError, IndexError, AttributeError) as exc:
            raise ValidationError(
                f"The image name template {template!r} is invalid ({type(exc).__name__}: {exc}); {TEMPLATE_HELP}",
                field="destination.image.name", value=template) from None

    def _catalog_image(self, ctx: Any) -> Any:
        from ..catalog import Image

        product = self.product_picker.value
        if not product:
            raise ValidationError(
                "No catalog product you may write to: create one with "
                'wf.catalog.Product(id="org:name", name="...").save(), add its bands, then click refresh',
                field="destination.image.product_id", value=None)
        return Image(name=self._image_name_for(ctx), product_id=product)

    def _specs(self, ctx: Any) -> tuple[dict, dict]:
        """(destination, format) as the form's fields give them, for one context (given to launch())."""
        dest_name = self.destination_dropdown.value
        dest: dict[str, Any] = {"type": dest_name}
        for opt in DESTINATIONS[dest_name].options:
            if opt.type == "catalog.Image":
                dest[opt.name] = self._catalog_image(ctx)
            else:
                dest[opt.name] = self._fields[("destination", dest_name, opt.name)].value
        fmt_name = self.format_dropdown.value or DEFAULT_FORMAT
        fmt: dict[str, Any] = {"type": fmt_name}
        if self.format_dropdown.value:
            for opt in FORMATS[fmt_name].options:
                fmt[opt.name] = self._fields[("format", fmt_name, opt.name)].value
        return dest, fmt

    def _check(self, everything: bool) -> tuple[dict, dict, list, Exception | None]:
        """Run the API's checks; (destination, format, [(ctx, dest spec, format spec)], problem)."""
        from ..backend import get_backend

        kind = self.value.kind
        contexts = self._contexts()
        dest_dict: dict = {}
        fmt_dict: dict = {}
        launches: list = []
        try:
            if self.destination_dropdown.value is None:
                raise ValidationError(f"No destination accepts {kind} results", field="destination", value=None)
            if not contexts:
                raise ValidationError("No tile selected: select tiles on the map to compute them",
                                      field="geoctx", value=[])
            if self.destination_dropdown.value == "catalog" and len(contexts) > 1:
                names = [self._image_name_for(ctx) for ctx in contexts]
                if len(set(names)) < len(names):
                    raise ValidationError(
                        f"The image name template {self.image_name.value!r} gives several tiles the same image name; "
                        f"include {{tile_key}} ({TEMPLATE_HELP})", field="destination.image.name",
                        value=self.image_name.value)
            backend = get_backend()
            for i, ctx in enumerate(contexts if everything else contexts[:1]):
                dest_spec, fmt_spec = self._specs(ctx)
                dest, fmt = normalize(dest_spec, fmt_spec, kind)
                if i == 0:
                    dest_dict, fmt_dict = dest, fmt
                check_geocontext(ctx, self.value)
                preflight(dest, fmt, self.value, backend)
                launches.append((ctx, dest_spec, fmt_spec))
        except Exception as exc:
            if not isinstance(exc, (WfError, ValueError, TypeError)):
                log.warning("Unexpected error while checking the export form", exc_info=exc)
            return dest_dict, fmt_dict, launches, exc
        return dest_dict, fmt_dict, launches, None

    def _update(self, everything: bool = False) -> tuple[list, Exception | None]:
        """Validate, then refresh traits, lines, the estimate and the code; returns (launches, problem)."""
        dest, fmt, launches, problem = self._check(everything)
        contexts = self._contexts()
        estimate = self._estimate(contexts)
        try:
            code = self._code(contexts)
        except Exception as exc:  # a spec that can't be built can't be shown either
            code = f"# {type(exc).__name__}: {exc}"
        with self.hold_trait_notifications():
            self.destination = dest
            self.format = fmt
            self.error = str(problem) if problem is not None else ""
            self.valid = problem is None
            self.estimate = estimate
            self.code = code
        n = len(contexts)
        self.compute_button.disabled = problem is not None
        self.compute_button.description = "Compute" if n <= 1 else f"Compute ({n} jobs)"
        if problem is None:
            self.validation_line.value = (
                f'<span style="color:var(--jp-success-color1,#1b5e20)">Ready: {n} job{"s" if n != 1 else ""} '
                f"to launch</span>")
        else:
            self.validation_line.value = (f'<div style="color:var(--jp-error-color1,#b71c1c);white-space:pre-wrap">'
                                          f"{html.escape(str(problem))}</div>")
        self.estimate_line.value = self._estimate_html(estimate)
        self.code_view.value = (f'<pre style="white-space:pre-wrap;margin:4px 0">{html.escape(code)}</pre>')
        return launches, problem

    def _estimate(self, contexts: list) -> dict:
        kind = self.value.kind
        if kind not in IMAGE_KINDS:
            return {}
        if not self._bands_known:
            from ..backend import get_backend

            self._bands = _static_bands(self.value, get_backend())
            self._bands_known = True
        per_job = [int(ctx.width) * int(ctx.height) for ctx in contexts if ctx is not None]
        pixels = sum(per_job)
        bands = len(self._bands) if self._bands is not None else None
        return {
            "jobs": len(contexts), "pixels": pixels,
            "pixels_per_job": per_job[0] if per_job and len(set(per_job)) == 1 else None,
            "bands": bands, "band_names": list(self._bands) if self._bands is not None else None,
            "bytes": pixels * bands * BYTES_PER_SAMPLE if bands is not None else None,
            "per_image": kind == "ImageCollection",
        }

    @staticmethod
    def _estimate_html(est: dict) -> str:
        if not est:
            return ""
        parts = [f"{est['jobs']} job{'s' if est['jobs'] != 1 else ''}", f"{est['pixels']:,} pixels"]
        if est["jobs"] > 1 and est["pixels_per_job"]:
            parts[-1] += f" ({est['pixels_per_job']:,} per job)"
        if est["bands"] is None:
            parts.append("bands unknown until computed")
        else:
            parts.append(f"{est['bands']} band{'s' if est['bands'] != 1 else ''} ({', '.join(est['band_names'])})")
        if est["bytes"] is not None:
            parts.append(f"about {_human_bytes(est['bytes'])} as float64" + (" per image" if est["per_image"] else ""))
        return (f'<span style="color:var(--jp-ui-font-color2,#666)">Estimate: '
                f'{html.escape(" · ".join(parts))}</span>')

    def _code(self, contexts: list) -> str:
        """The equivalent ``value.compute(...)`` call."""
        many = self._many()
        if self.destination_dropdown.value is None:
            return f"# no destination accepts {self.value.kind} results"
        dest_name = self.destination_dropdown.value
        ctx0 = contexts[0] if contexts else None
        dest: dict[str, Any] = {"type": dest_name}
        for opt in DESTINATIONS[dest_name].options:
            if opt.type == "catalog.Image":
                template = self.image_name.value
                if many:
                    name = ('tile.key.replace(":", "_")' if template == "{tile_key}" else
                            f'{_py(template)}.format(tile_key=tile.key.replace(":", "_"))')
                else:
                    name = _py(self._image_name_for(ctx0))
                dest[opt.name] = _Code(f"wf.catalog.Image(name={name}, product_id={_py(self.product_picker.value)})")
            else:
                dest[opt.name] = self._fields[("destination", dest_name, opt.name)].value
        fmt_name = self.format_dropdown.value or DEFAULT_FORMAT
        fmt: dict[str, Any] = {"type": fmt_name}
        if self.format_dropdown.value:
            for opt in FORMATS[fmt_name].options:
                fmt[opt.name] = self._fields[("format", fmt_name, opt.name)].value
        kw = [f"destination={_py(dest)}", f"format={_py(fmt)}"]
        v = self.value_name
        if many:
            call = f"{v}.compute({', '.join(['tile'] + kw + ['block=False'])})"
            one_line = f"jobs = [{call} for tile in {self.geoctx_name}]"
            if len(one_line) <= 100:
                return one_line
            args = ",\n        ".join(["tile"] + kw + ["block=False"])
            return f"jobs = [\n    {v}.compute(\n        {args},\n    )\n    for tile in {self.geoctx_name}\n]"
        args = ([self.geoctx_name] if self.geoctx is not None else []) + kw
        one_line = f"{v}.compute({', '.join(args)})"
        if len(one_line) <= 100:
            return one_line
        return f"{v}.compute(\n    " + ",\n    ".join(args) + ",\n)"

    # -- launching -----------------------------------------------------------------------------------
    def compute(self) -> list:
        """Validate every context, then launch one job per context; returns the new Jobs.

        What Compute does. Raises what ``compute()`` would raise if the choices are invalid.
        """
        from ..backend import get_backend
        from ..jobs.compute import launch

        launches, problem = self._update(everything=True)
        if problem is not None:
            raise problem
        backend = get_backend()
        jobs: list = []
        try:
            for ctx, dest_spec, fmt_spec in launches:
                jobs.append(launch(self.value, ctx, fmt_spec, dest_spec, backend))
        finally:
            if jobs:
                self.jobs.extend(jobs)
                self.board.add(*jobs)
        return jobs

    @shows_errors
    def _on_compute(self, _button: Any = None) -> None:
        self.compute()

    def close(self) -> None:
        g = getattr(self, "geoctx", None)  # also called by __del__ of a form whose __init__ failed
        if hasattr(g, "unobserve") and hasattr(g, "has_trait") and g.has_trait("selected_keys"):
            try:
                g.unobserve(self._on_tiles, names=["selected_keys"])
            except ValueError:
                pass
        board = getattr(self, "board", None)
        if board is not None:
            board.close()
        super().close()
