"""ExportForm: choose a destination, a format and their options, then launch jobs.

Every choice the form offers and every message it shows comes from the one table
(:mod:`wf_widgets.outputs.registry`) through the functions ``compute()`` uses:

* the destination dropdown lists the destinations ``normalize()`` accepts for the value's
  kind; the others are listed with the reason ``normalize()`` gives;
* the format dropdown lists the formats :func:`~wf_widgets.outputs.normalize.format_choices`
  allows for the destination and kind; each excluded one is listed with its reason;
* one field per :class:`~wf_widgets.outputs.registry.Option` of the chosen destination and
  format (bool: Checkbox, enum: Dropdown, str: Text, or a text area for multi-line
  strings; the catalog ``image`` option: a picker of the products the value fits, with the
  others listed and why, and an image name template);
* on every change the form prepares the first tile's launch with the pipeline ``compute()``
  uses (:func:`wf_widgets.jobs.plan.prepare`: normalize, the geocontext, the destination's
  preflight); the validation line shows ``str()`` of what ``compute()`` would raise, and
  Compute stays disabled until nothing would.

One source of truth: the controls
---------------------------------
The dropdowns and fields hold the form's state. The ``destination`` and ``format`` traits
are derived from them (the normal forms of what they give, written by the form only, under
a flag); writing either trait from outside is a request to *select* that value in the
controls (:meth:`ExportForm.select`): the value is normalised with ``normalize()``, as
``compute()`` takes it (a name, a dict, a ``catalog.Image``), the controls are set from the
normal form, and the traits are derived again. A value the controls can't take raises,
leaving them unchanged. No observer writes back to what it observes.

Decisions:

* ``geoctx`` may be None (non-imagery values), one GeoContext (a DLTile or an AOI), a list
  of them (one job each), or an object with a ``selected_tiles`` property (a TileMap; its
  ``selected_keys`` trait is observed when it has one).
* The image name template knows one field, ``{tile_key}``: the DLTile key with ``":"``
  replaced by ``"_"`` (``"geoctx"`` for a context without a key). With several tiles the
  names must differ, so the template must use ``{tile_key}``.
* The product picker starts with no product chosen and offers only the products the value
  fits (the catalog destination's checks, :func:`~wf_widgets.widgets._form_fields.upload_problem`);
  it also refuses integer products until ``change_dtype`` is ticked, where ``compute()`` would
  leave the data-loss guard to decide with the values.
* Validation runs for the first context on every change, and for every other context when
  Compute is clicked, before any job is launched: jobs of a batch are launched all or
  none (short of a failure while launching). A launch prepared once is kept until a field
  changes, so each tile is prepared (and its destination preflighted) once; what may change
  meanwhile (:func:`wf_widgets.jobs.plan.recheck`: the product, access, the image's absence)
  is checked again on every validation and at the click. Catalog images that jobs launched
  by the form are still uploading count as taken.
* After Compute the validation line says what the click launched and what a second click
  would do ("Launched 9 jobs at 14:02; a second click would launch 9 more jobs"); the form validates again
  when a job of its board ends, so the line stays true.
* ``notify=`` and ``retries=`` are fields of their own under the options (a webhook URL, a
  checkbox for the email, a number of retries): any destination may have them. They are
  checked with the launch (:func:`wf_widgets.jobs.plan.prepare_request`), so a refused
  webhook address shows in the validation line, and "Show code" writes them when set.
* The variable names in "Show code" are found in the caller's namespace when the form is
  built (``ExportForm(composite, tile)`` shows ``composite.compute(tile, ...)``); else
  ``value`` and ``tile`` / ``tiles``. The ``value_name`` and ``geoctx_name`` traits set them.
* Estimates count float64 pixels in memory (results are float64); band counts come from
  the static band rules (:func:`wf_widgets.values.image.static_bands`; unknown when they
  can't be known before computing). A linked TileMap shows the same estimate
  (:mod:`wf_widgets.widgets._estimate`): the form sets its ``export_value``.

Where the parts live: the fields and what the form offers in
:mod:`~wf_widgets.widgets._form_fields` (with :func:`~wf_widgets.widgets._form_fields.option_walk`,
the one walk over the options that the fields, the launched dicts and the code all follow),
the "Show code" text in :mod:`~wf_widgets.widgets._form_code`.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import sys
from typing import Any, Callable, Iterator

import ipywidgets
import traitlets

from ..backend import get_backend
from ..catalog import Image
from ..delivery.catalog_target import check_image_free
from ..errors import ValidationError, WfError
from ..jobs.job import Job
from ..jobs.plan import Launch, prepare_request, recheck, request, submit
from ..outputs.normalize import format_choices, normalize, normalize_format
from ..outputs.registry import DEFAULT_DESTINATION, DEFAULT_FORMAT, DESTINATIONS, FORMATS, Option
from ..values.base import Value, promote
from ._base import WidgetBase, caller_name, check_kwargs, shows_errors
from ._estimate import IMAGE_KINDS, known_bands, size_estimate, size_text
from ._form_code import compute_call, image_code
from ._form_fields import (
    IMAGE_OPTION,
    TEMPLATE_HELP,
    WIDE,
    ImagePicker,
    destination_choices,
    excluded_html,
    notify_fields,
    notify_spec,
    option_field,
    option_walk,
    upload_problem,
)
from .jobs_board import JobsBoard

log = logging.getLogger("wf_widgets.widgets")

_UNSET = object()
_ENDED = ("SUCCEEDED", "FAILED", "CANCELLED")


def _context_key(ctx: Any) -> str:
    """What tells contexts apart for the prepared launches: a DLTile's key, else the context's dict."""
    key = getattr(ctx, "key", None)
    if key is not None:
        return key
    return json.dumps(ctx.to_dict(), sort_keys=True, default=str) if hasattr(ctx, "to_dict") else repr(ctx)


def _jobs(n: int) -> str:
    return f"{n} job{'s' if n != 1 else ''}"


class ExportForm(WidgetBase, ipywidgets.VBox):
    """A form to compute a value: destination, format, options, validation, Compute.

    Parameters
    ----------
    value : Value
        What to compute (``value.kind`` decides the formats offered).
    geoctx : DLTile, AOI, list of them, TileMap or None
        Where to compute; a list (or a TileMap's selected tiles) launches one job per tile.
    **kwargs
        Public traits (``value_name``, ``geoctx_name``, ``layout``, ...; ``destination``
        and ``format`` are selected as :meth:`select` does); anything else raises
        ``TypeError``.

    Attributes
    ----------
    destination : dict
        The normalised destination (what ``normalize()`` returns for the first context),
        ``{}`` while the choice can't be normalised. Writable: ``form.destination = "email"``
        (a name, a dict or a ``catalog.Image``, as ``compute()`` takes it) selects it in the
        controls (:meth:`select`), or raises what ``compute()`` would raise.
    format : dict
        The normalised format, ``{}`` likewise; writable the same way.
    valid : bool
        True when ``compute()`` with these choices would start (nothing raised by
        ``normalize()``, the geocontext check or ``preflight()``).
    error : str
        ``str()`` of the exception ``compute()`` would raise, or ``""``.
    launched : str
        What the last Compute launched (``"Launched 9 jobs at 14:02"``), or ``""``.
    estimate : dict
        For Image and ImageCollection values: ``jobs``, ``pixels`` (all jobs),
        ``pixels_per_job``, ``bands`` (None if unknown), ``band_names``, ``bytes`` (float64,
        None if unknown; per image for an ImageCollection) and ``per_image``. Else ``{}``.
    code : str
        The equivalent ``value.compute(...)`` call (shown by "Show code"), laid out as
        black lays out code.
    show_code : bool
        Show ``code`` under the form.
    value_name, geoctx_name : str
        Variable names used in ``code``.
    callback_error : str
        The last error raised in a callback (e.g. while launching), shown under the form.
    notify_webhook, notify_email, retries_field : ipywidgets widgets
        The fields of ``compute(notify={"webhook": ..., "email": ...}, retries=...)``.
    jobs : list of Job
        Every job launched by the form (a plain list, not a trait); shown in :attr:`board`.
    board : JobsBoard
        The board under the form.
    """

    destination = traitlets.Any(default_value={})
    format = traitlets.Any(default_value={})
    valid = traitlets.Bool(False)
    error = traitlets.Unicode("")
    launched = traitlets.Unicode("")
    estimate = traitlets.Dict()
    code = traitlets.Unicode("")
    show_code = traitlets.Bool(False)
    value_name = traitlets.Unicode("value")
    geoctx_name = traitlets.Unicode("tile")
    callback_error = traitlets.Unicode("")

    def __init__(self, value: Any, geoctx: Any = None, **kwargs: Any) -> None:
        check_kwargs(self, kwargs)
        if not isinstance(value, Value):
            value = promote(value)
        frame = sys._getframe(1)
        kwargs.setdefault("value_name", caller_name(value, frame) or "value")
        kwargs.setdefault("geoctx_name", self._default_geoctx_name(geoctx, frame))
        del frame
        chosen = {name: kwargs.pop(name) for name in ("destination", "format") if name in kwargs}
        self._ready = False  # the controls exist (until then a write of destination/format is kept as is)
        self._deriving = False  # the form writes the derived destination/format traits
        self._building = False  # the form sets controls: their observers wait
        super().__init__(**kwargs)
        self.value = value
        self.geoctx = geoctx
        self.jobs: list = []
        self._fields: dict[tuple[str, str, str], Any] = {}
        self._picker: ImagePicker | None = None
        self._prepared: dict[str, Launch] = {}  # context key -> its launch, prepared with the fields of:
        self._prepared_state: tuple = ()
        self._uploads: dict[str, tuple[str, str]] = {}  # job id -> (catalog image id, when launched)
        self._ended = 0  # jobs of the board that had ended at the last validation

        kind = value.kind
        allowed, excluded = destination_choices(kind)
        self.destination_dropdown = ipywidgets.Dropdown(
            options=[(DESTINATIONS[d].title, d) for d in allowed],
            value=DEFAULT_DESTINATION if DEFAULT_DESTINATION in allowed else (allowed[0] if allowed else None),
            description="Destination", style=WIDE)
        self.destination_dropdown.add_class("wf-export-destination")
        self.excluded_destinations = ipywidgets.HTML(
            excluded_html([(DESTINATIONS[name].title, why) for name, why in excluded]))
        self.excluded_destinations.add_class("wf-export-excluded-destinations")
        self.format_dropdown = ipywidgets.Dropdown(description="Format", style=WIDE)
        self.format_dropdown.add_class("wf-export-format")
        self.excluded_formats = ipywidgets.HTML()
        self.excluded_formats.add_class("wf-export-excluded-formats")
        self.destination_options = ipywidgets.VBox()
        self.format_options = ipywidgets.VBox()
        self.notify_webhook, self.notify_email, self.retries_field = notify_fields()
        self.delivery_options = ipywidgets.VBox([self.notify_webhook, self.notify_email, self.retries_field])
        self.delivery_options.add_class("wf-export-notify")
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
            self.destination_options, self.format_options, self.delivery_options, self.estimate_line,
            self.validation_line,
            ipywidgets.HBox([self.compute_button, self.code_toggle]), self.code_view, self.error_line, self.board,
        ]
        self.add_class("wf-export-form")

        traitlets.link((self.code_toggle, "value"), (self, "show_code"))
        self.destination_dropdown.observe(self._on_destination, names=["value"])
        self.format_dropdown.observe(self._on_format, names=["value"])
        self.compute_button.on_click(self._on_compute)
        for field in (self.notify_webhook, self.notify_email, self.retries_field):
            field.observe(self._on_field, names=["value"])
        self.board.observe(self._on_board, names=["counts"])
        with self._setting_controls():
            self._show_destination(self.destination_dropdown.value)
        self._ready = True
        if chosen:
            self.select(**chosen)  # raises what compute() would: before the form hooks into a map
        else:
            self._update()
        if hasattr(geoctx, "selected_tiles") and hasattr(geoctx, "has_trait") and geoctx.has_trait("selected_keys"):
            geoctx.observe(self._on_tiles, names=["selected_keys"])
        if hasattr(geoctx, "has_trait") and geoctx.has_trait("export_value"):
            geoctx.export_value = value  # a TileMap: its selection line estimates this value's size
        self._on_show_code({"new": self.show_code})
        self._on_callback_error({"new": self.callback_error})

    # -- what the form offers --------------------------------------------------------------------
    def _default_geoctx_name(self, geoctx: Any, frame: Any) -> str:
        if isinstance(geoctx, (list, tuple)):
            return caller_name(geoctx, frame) or "tiles"
        if hasattr(geoctx, "selected_tiles"):
            return f"{caller_name(geoctx, frame) or 'tile_map'}.selected_tiles"
        return caller_name(geoctx, frame) or "tile"

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

    @property
    def product_picker(self) -> ipywidgets.Dropdown:
        """The catalog product dropdown (value ``""`` while none is chosen)."""
        return self._image_picker().product_picker

    @property
    def product_refresh(self) -> ipywidgets.Button:
        """The button that lists the catalog's products again."""
        return self._image_picker().product_refresh

    @property
    def image_name(self) -> ipywidgets.Text:
        """The catalog image name template."""
        return self._image_picker().image_name

    @property
    def excluded_products(self) -> ipywidgets.HTML:
        """The products the current user may write that the value doesn't fit, with the reason."""
        return self._image_picker().excluded_products

    def _image_picker(self) -> ImagePicker:
        """The catalog image option's field (built on first use, as the form builds every field)."""
        if self._picker is None:
            for name, dest in DESTINATIONS.items():
                for opt in dest.options:
                    if opt.type == IMAGE_OPTION:
                        self._option_field("destination", name, opt)
        return self._picker

    # -- building fields ------------------------------------------------------------------------------
    def _option_field(self, section: str, owner: str, opt: Option) -> Any:
        """The field of one option (kept while the form lives, so a value typed in survives a switch)."""
        key = (section, owner, opt.name)
        field = self._fields.get(key)
        if field is not None:
            return field
        if opt.type == IMAGE_OPTION:
            field = self._picker = ImagePicker(opt, self._on_field, self._on_refresh_products)
        else:
            field = option_field(opt)
            field.observe(self._on_field, names=["value"])
        self._fields[key] = field
        return field

    def _build_options(self, box: ipywidgets.VBox, destination: str | None, fmt: str | None) -> None:
        box.children = [self._option_field(*item) for item in option_walk(destination, fmt)]

    @contextlib.contextmanager
    def _setting_controls(self) -> Iterator[None]:
        """The form sets controls: their observers don't validate (the caller does, once, afterwards)."""
        outer = self._building
        self._building = True
        try:
            yield
        finally:
            self._building = outer

    def _format_for(self, destination: str, wanted: str | None = None) -> str | None:
        """The format to select for ``destination``: ``wanted`` or the current one if allowed, else the default."""
        allowed = [name for name, why in format_choices(destination, self.value.kind) if why is None]
        for name in (wanted, self.format_dropdown.value, DEFAULT_FORMAT):
            if name in allowed:
                return name
        return allowed[0] if allowed else None

    def _show_destination(self, dest: str | None, fmt: str | None = None) -> None:
        """Show ``dest``'s formats (selecting ``fmt``, else keeping the current one if allowed) and both option boxes."""
        if dest is None:
            self.format_dropdown.options = []
            self.excluded_formats.value = ""
        else:
            choices = format_choices(dest, self.value.kind)
            chosen = self._format_for(dest, fmt)
            self.format_dropdown.options = [(FORMATS[name].title, name) for name, why in choices if why is None]
            self.format_dropdown.value = chosen
            self.excluded_formats.value = excluded_html(
                [(FORMATS[name].title, why) for name, why in choices if why is not None])
            self._build_options(self.destination_options, dest, None)
        self._build_options(self.format_options, None, self.format_dropdown.value)
        self._list_products()

    def _list_products(self, force: bool = False) -> None:
        """Fill the product picker for the catalog destination's current options (nothing for the others)."""
        dest = self.destination_dropdown.value
        if self._picker is None or dest is None or not any(o.type == IMAGE_OPTION for o in DESTINATIONS[dest].options):
            return
        _dest, fmt = self._spec_dicts(lambda: None)
        self._picker.list_products(known_bands(self.value), fmt, bool(_dest.get("change_dtype")), force=force)

    # -- writing destination and format ---------------------------------------------------------------
    @traitlets.validate("destination", "format")
    def _on_write(self, proposal: Any) -> Any:
        """A write from outside selects the value in the controls; the form's own writes pass as they are."""
        if self._deriving or not self._ready:
            return proposal["value"]
        name = proposal["trait"].name
        self.select(**{name: proposal["value"]})
        return getattr(self, name)  # what select() derived (and already wrote)

    def select(self, destination: Any = _UNSET, format: Any = _UNSET) -> None:
        """Select a destination and/or a format, as ``compute()`` takes them, in the controls.

        Parameters
        ----------
        destination : str, dict or catalog.Image, optional
            ``"email"``, ``{"type": "email", "subject": "..."}``, a ``catalog.Image``, or a
            normal form. Given alone, the current format is kept when the destination allows
            it, else the format the dropdown would pick (GeoTIFF for the catalog).
        format : str or dict, optional
            ``"json"``, ``{"type": "geotiff", "compression": "deflate"}``, ... Given alone, it
            must suit the current destination.

        Raises
        ------
        ValidationError, NotFound, PermissionDenied
            What ``normalize()`` raises for the value (what ``compute()`` would raise), or,
            for a catalog Image, why its product can't take the value (the picker doesn't
            offer it). The controls are unchanged.
        """
        kind = self.value.kind
        if destination is not _UNSET and format is not _UNSET:
            dest, fmt = normalize(destination, format, kind)
        elif destination is not _UNSET:
            dest, fallback = normalize(destination, DEFAULT_FORMAT, kind)
            _current_dest, current = self._spec_dicts(lambda: None)
            try:
                fmt = normalize_format(dest["type"], current, kind)
            except ValidationError:
                fmt = fallback  # the current format doesn't suit the destination: as the dropdown does
        elif format is not _UNSET:
            if self.destination_dropdown.value is None:
                raise ValidationError(f"No destination accepts {kind} results", field="destination", value=None)
            dest, fmt = None, normalize_format(self.destination_dropdown.value, format, kind)
        else:
            return
        self._check_product(dest, fmt)
        image = self._image_option(dest)
        with self._setting_controls():
            dest_type = dest["type"] if dest is not None else self.destination_dropdown.value
            self.destination_dropdown.value = dest_type
            self._show_destination(dest_type, fmt["type"])
            for section, owner, opt in option_walk(dest_type, fmt["type"]):
                spec = dest if section == "destination" else fmt
                if spec is not None and opt.type != IMAGE_OPTION:
                    self._option_field(section, owner, opt).value = spec[opt.name]
            self._list_products(force=image is not None)  # with the options just set
            if image is not None:
                self._picker.set_image(dest[image.name])
        self._update()

    def _check_product(self, dest: dict | None, fmt: dict) -> None:
        """Raise why the catalog product of ``dest`` (None: the chosen one) can't take the value with ``fmt``.

        What the picker would say of it (:func:`~wf_widgets.widgets._form_fields.upload_problem`):
        a product it doesn't offer can't be selected.
        """
        if dest is None:  # the format alone changes: does the chosen product still take the upload?
            current = self.destination_dropdown.value
            if self._picker is None or self._image_option({"type": current}) is None or not self._picker.product:
                return
            dest, _fmt = self._spec_dicts(lambda: {"product_id": self._picker.product, "name": "image"})
        option = self._image_option(dest)
        if option is None:
            return
        image = dest[option.name]
        problem = upload_problem(image["product_id"], known_bands(self.value), fmt, bool(dest.get("change_dtype")),
                                 image["name"])
        if problem is not None:
            raise problem

    @staticmethod
    def _image_option(dest: dict | None) -> Option | None:
        if dest is None:
            return None
        return next((o for o in DESTINATIONS[dest["type"]].options if o.type == IMAGE_OPTION), None)

    # -- observers -----------------------------------------------------------------------------------
    @shows_errors
    def _on_destination(self, change: Any = None) -> None:
        if self._building:
            return
        with self._setting_controls():
            self._show_destination(self.destination_dropdown.value)
        self._update()

    @shows_errors
    def _on_format(self, change: Any = None) -> None:
        if self._building:
            return
        with self._setting_controls():
            self._build_options(self.format_options, None, self.format_dropdown.value)
            self._list_products()
        self._update()

    @shows_errors
    def _on_field(self, change: Any = None) -> None:
        if self._building:
            return
        with self._setting_controls():
            self._list_products()  # change_dtype and the compression decide which products fit
        self._update()

    @shows_errors
    def _on_refresh_products(self, _button: Any = None) -> None:
        with self._setting_controls():
            self._list_products(force=True)
        self._update()

    @shows_errors
    def _on_tiles(self, change: Any = None) -> None:
        self._update()

    @shows_errors
    def _on_board(self, change: Any = None) -> None:
        """A job of the board ended: what a second click would do may have changed."""
        ended = sum(n for stage, n in (change["new"] if change else self.board.counts).items() if stage in _ENDED)
        if ended != self._ended:
            self._ended = ended
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
        if self._ready:
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
        product = self._picker.product
        if not product:
            offered = len(self.product_picker.options) > 1
            raise ValidationError(
                "Choose the catalog product to upload into" if offered else
                "No catalog product you may write to takes this value (see the products listed as not available): "
                'create one with wf.catalog.Product(id="org:name", name="...").save(), add bands matching the '
                "value's, then click refresh",
                field="destination.image.product_id", value=None)
        return Image.from_dict({"name": self._image_name_for(ctx), "product_id": product, **self._picker.extra})

    def _spec_dicts(self, image: Callable[[], Any]) -> tuple[dict, dict]:
        """(destination, format) as the fields give them; ``image()`` gives the catalog image option's value."""
        dest: dict[str, Any] = {"type": self.destination_dropdown.value}
        fmt: dict[str, Any] = {"type": self.format_dropdown.value or DEFAULT_FORMAT}
        for section, owner, opt in option_walk(self.destination_dropdown.value, self.format_dropdown.value):
            spec = dest if section == "destination" else fmt
            spec[opt.name] = image() if opt.type == IMAGE_OPTION else self._fields[(section, owner, opt.name)].value
        return dest, fmt

    def _specs(self, ctx: Any) -> tuple[dict, dict]:
        """(destination, format) as the form's fields give them, for one context (given to launch())."""
        return self._spec_dicts(lambda: self._catalog_image(ctx))

    def _state(self) -> tuple:
        """What a prepared launch depends on besides its tile: the backend and every field's value."""
        values: list = [id(get_backend()), self.destination_dropdown.value, self.format_dropdown.value,
                        self.notify_webhook.value, self.notify_email.value, self.retries_field.value]
        for section, owner, opt in option_walk(self.destination_dropdown.value, self.format_dropdown.value):
            if opt.type == IMAGE_OPTION:
                values += [self._picker.product, self.image_name.value, repr(self._picker.extra)]
            else:
                values.append(repr(self._fields[(section, owner, opt.name)].value))
        return tuple(values)

    def _prepare(self, ctx: Any, state: tuple, normal: list) -> Launch:
        """The prepared launch of one context: kept from an earlier check while the fields are unchanged.

        A kept launch is checked again for what may have changed since (:func:`recheck`:
        the product, access, the image's absence). ``normal`` gets the (destination,
        format) normal forms as soon as they are known, even when a later check fails.
        """
        if state != self._prepared_state:
            self._prepared, self._prepared_state = {}, state
        key = _context_key(ctx)
        launch = self._prepared.get(key)
        if launch is None:
            dest_spec, fmt_spec = self._specs(ctx)
            req = request(self.value, fmt_spec, dest_spec)
            normal.append((req.destination, req.format))
            launch = self._prepared[key] = prepare_request(req, ctx, get_backend(), notify=self._notify(),
                                                           retries=self.retries_field.value)
        else:
            normal.append((launch.destination, launch.format))
            recheck(launch)
        self._check_uploading(launch)
        return launch

    def _check_uploading(self, launch: Launch) -> None:
        """Refuse a catalog image that a job launched by this form is still uploading (unless overwrite)."""
        image = launch.destination.get("image")
        if not isinstance(image, dict) or launch.destination.get("overwrite") or not self._uploads:
            return
        writers = [(job_id, when) for job_id, (image_id, when) in self._uploads.items() if image_id == image["id"]]
        if not writers:
            return
        rows = launch.backend.jobs.many([job_id for job_id, _ in writers])
        for job_id, when in writers:
            row = rows.get(job_id)
            if row is not None and row["stage"] not in _ENDED:
                check_image_free(launch.backend.catalog, image["id"], False,
                                 pending={image["id"]: f"job {job_id[:8]}, launched by this form at {when}"})

    def _check(self, everything: bool) -> tuple[dict, dict, list[Launch], Exception | None]:
        """Prepare the launches (the API's checks, once per tile); (destination, format, launches, problem).

        Live validation prepares the first context; Compute all of them. A launch prepared
        once is kept while no field changes, so each tile is checked once, not again at the click.
        """
        kind = self.value.kind
        contexts = self._contexts()
        dest_dict: dict = {}
        fmt_dict: dict = {}
        launches: list[Launch] = []
        try:
            if self.destination_dropdown.value is None:
                raise ValidationError(f"No destination accepts {kind} results", field="destination", value=None)
            if not contexts:
                raise ValidationError("No tile selected: select tiles on the map to compute them",
                                      field="geoctx", value=[])
            if self._image_option({"type": self.destination_dropdown.value}) is not None and len(contexts) > 1:
                names = [self._image_name_for(ctx) for ctx in contexts]
                if len(set(names)) < len(names):
                    raise ValidationError(
                        f"The image name template {self.image_name.value!r} gives several tiles the same image name; "
                        f"include {{tile_key}} ({TEMPLATE_HELP})", field="destination.image.name",
                        value=self.image_name.value)
            state = self._state()
            normal: list[tuple[dict, dict]] = []
            try:
                for ctx in contexts if everything else contexts[:1]:
                    launches.append(self._prepare(ctx, state, normal))
            finally:
                if normal:  # the first tile's normal forms, even if a later check refused
                    dest_dict, fmt_dict = normal[0]
        except Exception as exc:
            if not isinstance(exc, (WfError, ValueError, TypeError)):
                log.warning("Unexpected error while checking the export form", exc_info=exc)
            return dest_dict, fmt_dict, launches, exc
        return dest_dict, fmt_dict, launches, None

    def _update(self, everything: bool = False) -> tuple[list, Exception | None]:
        """Validate, then derive the traits and refresh the lines, the estimate and the code; returns (launches, problem)."""
        dest, fmt, launches, problem = self._check(everything)
        contexts = self._contexts()
        estimate = self._estimate(contexts)
        try:
            code = self._code(contexts)
        except Exception as exc:  # a spec that can't be built can't be shown either
            code = f"# {type(exc).__name__}: {exc}"
        self._deriving = True
        try:
            with self.hold_trait_notifications():
                self.destination = dest
                self.format = fmt
                self.error = str(problem) if problem is not None else ""
                self.valid = problem is None
                self.estimate = estimate
                self.code = code
        finally:
            self._deriving = False
        n = len(contexts)
        self.compute_button.disabled = problem is not None
        self.compute_button.description = "Compute" if n <= 1 else f"Compute ({n} jobs)"
        self.validation_line.value = self._validation_html(n, problem)
        self.estimate_line.value = self._estimate_html(estimate)
        self.code_view.value = (f'<pre style="white-space:pre;overflow-x:auto;margin:4px 0">{html.escape(code)}</pre>')
        return launches, problem

    def _validation_html(self, n: int, problem: Exception | None) -> str:
        """The validation line: Ready or the error; after a click, what it launched and what another would do."""
        ok = "color:var(--jp-success-color1,#1b5e20)"
        bad = "color:var(--jp-error-color1,#b71c1c);white-space:pre-wrap"
        if not self.launched:
            if problem is None:
                return f'<span style="{ok}">Ready: {_jobs(n)} to launch</span>'
            return f'<div style="{bad}">{html.escape(str(problem))}</div>'
        said = html.escape(self.launched)
        if problem is None:
            return f'<span style="{ok}">{said}; a second click would launch {n} more job{"s" if n != 1 else ""}</span>'
        return f'<div style="{bad}">{said}; a second click would fail: {html.escape(str(problem))}</div>'

    def _estimate(self, contexts: list) -> dict:
        if self.value.kind not in IMAGE_KINDS:
            return {}
        per_job = [int(ctx.width) * int(ctx.height) for ctx in contexts if ctx is not None]
        return {"jobs": len(contexts), "pixels_per_job": per_job[0] if per_job and len(set(per_job)) == 1 else None,
                **size_estimate(self.value, sum(per_job))}

    @staticmethod
    def _estimate_html(est: dict) -> str:
        if not est:
            return ""
        parts = [_jobs(est["jobs"]), f"{est['pixels']:,} pixels"]
        if est["jobs"] > 1 and est["pixels_per_job"]:
            parts[-1] += f" ({est['pixels_per_job']:,} per job)"
        names = est["band_names"]
        parts.append("bands unknown until computed" if names is None else f"bands {', '.join(names) or '(none)'}")
        parts.append(size_text(est))
        return (f'<span style="color:var(--jp-ui-font-color2,#666)">Estimate: '
                f'{html.escape(" · ".join(parts))}</span>')

    def _code(self, contexts: list) -> str:
        """The equivalent ``value.compute(...)`` call."""
        if self.destination_dropdown.value is None:
            return f"# no destination accepts {self.value.kind} results"
        many = self._many()

        def image() -> Any:
            name = None if many else self._image_name_for(contexts[0] if contexts else None)
            return image_code(self.image_name.value, self._picker.product, many, name, self._picker.extra)

        dest, fmt = self._spec_dicts(image)
        return compute_call(self.value_name, self.geoctx_name if many or self.geoctx is not None else None,
                            dest, fmt, many, notify=self._notify(), retries=self.retries_field.value)

    def _notify(self) -> dict | None:
        """The ``notify=`` of the fields (None: nothing asked)."""
        return notify_spec(self.notify_webhook.value, self.notify_email.value)

    # -- launching -----------------------------------------------------------------------------------
    def compute(self) -> list[Job]:
        """Launch one job per context; returns the new Jobs.

        What Compute does. The launches prepared while the form was edited are kept and
        checked again for what may have changed since (the catalog image's absence, write
        access); the rest are prepared now. All must pass, else nothing is launched and the
        error raised is what ``compute()`` would raise. Then the jobs are submitted, and the
        form validates again: the validation line says what was launched and what a second
        click would do.
        """
        launches, problem = self._update(everything=True)
        if problem is not None:
            raise problem
        jobs: list[Job] = []
        backend = get_backend()
        when = backend.settings.now().astimezone().strftime("%H:%M")
        try:
            for launch in launches:
                job = submit(launch)
                jobs.append(job)
                image = launch.destination.get("image")
                if isinstance(image, dict):
                    self._uploads[job.id] = (image["id"], when)
        finally:
            if jobs:
                self.jobs.extend(jobs)
                self.board.add(*jobs)
                self.launched = f"Launched {_jobs(len(jobs))} at {when}"
                self._update()
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
        if hasattr(g, "has_trait") and g.has_trait("export_value") and g.export_value is getattr(self, "value", None):
            g.export_value = None
        board = getattr(self, "board", None)
        if board is not None:
            board.close()
        super().close()
