"""Validation against the table: :func:`normalize` (and its format half :func:`normalize_format`),
:func:`format_problem`, :func:`format_choices`.

``normalize`` reads only :mod:`~wf_widgets.outputs.registry` (and the option kinds the layers
above register: the catalog's Image) and returns fully-defaulted, JSON-serialisable dicts;
it accepts its own output. It raises :class:`~wf_widgets.errors.ValidationError` naming the
field, the bad value and the allowed values. What depends on the environment is each
destination handler's ``preflight`` (:mod:`wf_widgets.delivery`); the launch pipeline
(:mod:`wf_widgets.jobs.plan`) runs both before a job row exists.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..errors import ValidationError, ValidationTypeError
from .registry import DEFAULT_FORMAT, DESTINATIONS, FORMATS, REQUIRED, Destination, Format, Option


@dataclasses.dataclass(frozen=True)
class OptionKind:
    """How :func:`normalize` checks options of a type the layers above define (``"catalog.Image"``).

    Attributes
    ----------
    matches : callable
        ``matches(obj)``: True for an object that may stand for the whole destination (the
        shorthand ``destination=catalog.Image(...)``).
    normal : callable
        ``normal(value, field)``: the JSON-able normal form of an option value (which it must
        accept back unchanged), or a ValidationError naming ``field``.
    """

    matches: Callable[[Any], bool]
    normal: Callable[[Any, str], Any]


#: Option types defined above this layer, by name; the catalog registers ``"catalog.Image"``.
OPTION_KINDS: dict[str, OptionKind] = {}


def register_option_kind(name: str, kind: OptionKind) -> None:
    """Teach :func:`normalize` an option type of the table (see :class:`OptionKind`)."""
    OPTION_KINDS[name] = kind



def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "AEIOU" else f"a {kind}"


def _split(spec: Any, field: str, table: dict, extra_types: tuple = ()) -> tuple[Any, dict]:
    """(entry, given options) of a shorthand string or a dict with "type"."""
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, dict):
        if "type" not in spec:
            raise ValidationError(
                f"A {field} dict must include a 'type' key; allowed types: {', '.join(map(repr, table))}",
                field=f"{field}.type", value=spec, allowed=tuple(table),
            )
        name, options = spec["type"], {k: v for k, v in spec.items() if k != "type"}
    else:
        accepted = "a str or a dict with a 'type' key" + (" or a catalog.Image" if extra_types else "")
        raise ValidationTypeError(
            f"{field} must be {accepted}, got {type(spec).__name__} {spec!r}",
            field=field, value=spec, allowed=tuple(table),
        )
    if not isinstance(name, str) or name.lower() not in table:
        raise ValidationError.bad_value(f"{field}" if isinstance(spec, str) else f"{field}.type", name, table, what=field)
    return table[name.lower()], options


def _option_value(opt: Option, value: Any, field: str) -> Any:
    where = f"{field}.{opt.name}"
    if opt.type == "bool":
        if not isinstance(value, bool):
            raise ValidationTypeError(f"{where} must be a bool (True or False), got {type(value).__name__} {value!r}",
                                      field=where, value=value, allowed=(True, False))
        return value
    if opt.type == "str":
        if not isinstance(value, str):
            raise ValidationTypeError(f"{where} must be a str, got {type(value).__name__} {value!r}",
                                      field=where, value=value)
        problem = opt.text.problem(value) if opt.text is not None else None
        if problem is not None and opt.text.what is not None:
            raise ValidationError(f"{where} must be {opt.text.what}: {value!r} is refused because {problem}. "
                                  f"Allowed: {opt.text.allowed}", field=where, value=value,
                                  allowed=opt.text.examples or None)
        if problem is not None:
            what = "a single line of plain text" if opt.text.single_line else "plain text"
            raise ValidationError(f"{where} must be {what}: {value!r} contains {problem}. "
                                  f"Allowed: {opt.text.allowed}", field=where, value=value)
        return value
    if opt.type == "enum":
        if not isinstance(value, str) or value.lower() not in opt.allowed:
            raise ValidationError.bad_value(where, value, opt.allowed)
        return value.lower()
    kind = OPTION_KINDS.get(opt.type)
    if kind is not None:
        return kind.normal(value, where)
    raise AssertionError(f"unknown option type {opt.type}")  # a bug in the table


def _options(entry: Format | Destination, given: dict, field: str) -> dict:
    allowed = [o.name for o in entry.options]
    out: dict[str, Any] = {"type": entry.name}
    for key in given:
        if key not in allowed:
            raise ValidationError(
                f"Unknown option {key!r} for {field} {entry.name!r}; allowed options: "
                + (", ".join(map(repr, allowed)) if allowed else f"none ({entry.title} takes no options)"),
                field=f"{field}.{key}", value=key, allowed=allowed,
            )
    for opt in entry.options:
        if opt.name in given:
            out[opt.name] = _option_value(opt, given[opt.name], field)
        elif opt.default is REQUIRED:
            raise ValidationError(f"{field} {entry.name!r} needs the option {opt.name!r} ({opt.help})",
                                  field=f"{field}.{opt.name}", value=None)
        else:
            out[opt.name] = opt.default
    return out


def _shorthand(destination: Any) -> Any:
    """A destination given as an object of a registered option kind (a catalog.Image) as a dict."""
    for name, kind in OPTION_KINDS.items():
        if kind.matches(destination):
            dest = next(d for d in DESTINATIONS.values() if any(o.type == name for o in d.options))
            option = next(o for o in dest.options if o.type == name)
            return {"type": dest.name, option.name: destination}
    return destination


def format_problem(fmt: Format, dest: Destination, kind: str) -> str | None:
    """Why ``fmt`` can't be used for a ``kind`` result sent to ``dest``, or None if it can."""
    if dest.formats is not None and fmt.name not in dest.formats:
        return f"{dest.title} accepts only {', '.join(FORMATS[f].title for f in dest.formats)}"
    if kind != "Any" and kind not in fmt.kinds:
        needs = " or ".join(sorted(fmt.kinds))
        return f"{fmt.title} needs {_article(needs)} result, not {_article(kind)}"
    if kind == "Any" and fmt.kinds != FORMATS[DEFAULT_FORMAT].kinds:
        return f"{fmt.title} needs {_article(' or '.join(sorted(fmt.kinds)))} result"
    return None


def format_choices(destination: str, kind: str) -> list[tuple[str, str | None]]:
    """Every format with the reason it is excluded for ``destination`` and ``kind`` (None if allowed)."""
    dest = DESTINATIONS[destination.lower()]
    return [(name, format_problem(fmt, dest, kind)) for name, fmt in FORMATS.items()]


def normalize(destination: Any = "download", format: Any = "pyarrow", kind: str = "Any") -> tuple[dict, dict]:
    """Check a destination and format against the table; return their normal forms.

    Parameters
    ----------
    destination : str, dict or catalog.Image
        ``"download"``, ``{"type": "email", "subject": ...}``, a ``catalog.Image``, ...
    format : str or dict
        ``"json"``, ``{"type": "pyarrow", "compression": "zstd"}``, ...
    kind : str
        The result kind of the value (``Value.kind``).

    Returns
    -------
    (dict, dict)
        Destination and format, every option filled in, JSON-serialisable.

    Raises
    ------
    ValidationError
        Naming the field, the bad value and the allowed values (a ``TypeError`` too when
        a Python type is wrong).
    """
    destination = _shorthand(destination)
    dest, dest_opts = _split(destination, "destination", DESTINATIONS, extra_types=("catalog.Image",))
    if kind != "Any" and kind not in dest.kinds:
        raise ValidationError(
            f"The {dest.name} destination can only be used with {_article(' or '.join(sorted(dest.kinds)))} "
            f"result, not {_article(kind)}", field="destination", value=dest.name,
            allowed=[d for d, e in DESTINATIONS.items() if kind in e.kinds],
        )
    dest_dict = _options(dest, dest_opts, "destination")
    return dest_dict, normalize_format(dest.name, format, kind)


def normalize_format(destination: str, format: Any = "pyarrow", kind: str = "Any") -> dict:
    """The format half of :func:`normalize`: ``format``'s normal form for the destination named ``destination``.

    What :func:`normalize` does with its ``format`` once the destination is known (the
    catalog shorthand included: the default ``"pyarrow"`` becomes ``"geotiff"``), for callers
    that hold the destination's name but not yet all of its options (the export form, while
    the catalog image is still to be chosen).

    Raises
    ------
    ValidationError
        As :func:`normalize` does for the format (``field`` starting with ``"format"``).
    """
    dest = DESTINATIONS[destination.lower()]
    if (dest.formats is not None and isinstance(format, str) and format.lower() == DEFAULT_FORMAT
            and DEFAULT_FORMAT not in dest.formats):
        format = dest.formats[0]  # the catalog shorthand: default pyarrow becomes geotiff
    fmt, fmt_opts = _split(format, "format", FORMATS)
    problem = format_problem(fmt, dest, kind)
    if problem is not None:
        allowed = [name for name, why in format_choices(dest.name, kind) if why is None]
        raise ValidationError(
            f"Format {fmt.name!r} can't be used here: {problem}. Allowed formats for {_article(kind)} result "
            f"sent to {dest.name}: {', '.join(map(repr, allowed))}",
            field="format", value=fmt.name, allowed=allowed,
        )
    return _options(fmt, fmt_opts, "format")
