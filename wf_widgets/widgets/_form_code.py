"""The ExportForm's "Show code" text: the ``value.compute(...)`` call its choices amount to.

Pure functions of names and dicts (the form builds the dicts with the same walk over the
options as the ones it launches with, so the code normalises to exactly the same).

The text is laid out as black (and ``ruff format``) would lay it out at 88 columns, so a
student can paste it into formatted code unchanged: a call that fits stays on one line;
otherwise its arguments go on one indented line if that fits, else one per line with a
trailing comma; a dict that doesn't fit has one item per line; a comprehension that doesn't
fit puts its ``for`` on a line of its own. Strings take double quotes unless single quotes
need fewer escapes. A test compares the text with ``ruff format``'s.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Sequence

#: Columns of a line, as black's default.
LINE_WIDTH = 88
INDENT = "    "


class Code(str):
    """Python source text to print as is (not as a string literal)."""


@dataclasses.dataclass(frozen=True)
class Call:
    """A call ``func(arg, name=value, ...)``: ``args`` are ``(name or None, value)`` pairs."""

    func: str
    args: tuple[tuple[str | None, Any], ...]


@dataclasses.dataclass(frozen=True)
class Comprehension:
    """``[element for_clause]`` (``for_clause`` is e.g. ``"for tile in tiles"``)."""

    element: Any
    for_clause: str


def py_str(text: str) -> str:
    """A Python string literal of ``text``: double quotes, unless single quotes need fewer escapes (as black)."""
    if text.count('"') > text.count("'"):
        return repr(text)  # single quotes: repr escapes a ' in it, and what isn't printable
    return json.dumps(text, ensure_ascii=False)


def py(obj: Any) -> str:
    """Python source of a JSON-like value on one line (True/False/None); :class:`Code` as is."""
    if isinstance(obj, Code):
        return str(obj)
    if obj is None or isinstance(obj, bool):
        return repr(obj)
    if isinstance(obj, str):
        return py_str(obj)
    if isinstance(obj, (int, float)):
        return repr(obj)
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(py(v) for v in obj) + "]"
    if isinstance(obj, Call):
        return f"{obj.func}({', '.join(_arg(name, value) for name, value in obj.args)})"
    if isinstance(obj, Comprehension):
        return f"[{py(obj.element)} {obj.for_clause}]"
    return repr(obj)


def _arg(name: str | None, value: Any) -> str:
    return py(value) if name is None else f"{name}={py(value)}"


def _items(obj: Any) -> list[tuple[str, Any]] | None:
    """The ``(prefix, value)`` items of a bracketed value (a call's arguments, a dict's or list's items), or None."""
    if isinstance(obj, Call):
        return [("" if name is None else f"{name}=", value) for name, value in obj.args]
    if isinstance(obj, dict):
        return [(f"{py(k)}: ", v) for k, v in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [("", v) for v in obj]
    return None


def layout(obj: Any, indent: int = 0, prefix: str = "", suffix: str = "") -> list[str]:
    """The lines of ``prefix + obj + suffix`` starting at column ``indent``, black-style.

    The first line holds ``prefix`` and no indentation (the caller places it); the others
    carry their own; the last ends with ``suffix``.
    """
    flat = prefix + py(obj) + suffix
    if indent + len(flat) <= LINE_WIDTH:
        return [flat]
    inner = indent + len(INDENT)
    if isinstance(obj, Comprehension):
        body = f"{py(obj.element)} {obj.for_clause}"
        if inner + len(body) <= LINE_WIDTH:
            lines = [" " * inner + body]
        else:
            lines = _placed(layout(obj.element, inner), inner) + [" " * inner + obj.for_clause]
        return [prefix + "["] + lines + [" " * indent + "]" + suffix]
    items = _items(obj)
    if not items:
        return [flat]  # an atom can't be split
    opening, closing = ((f"{obj.func}(", ")") if isinstance(obj, Call) else
                        ("{", "}") if isinstance(obj, dict) else ("[", "]"))
    if isinstance(obj, Call):  # a call's arguments may share one indented line (a literal's items may not)
        body = ", ".join(p + py(v) for p, v in items)
        if inner + len(body) <= LINE_WIDTH:
            return [prefix + opening, " " * inner + body, " " * indent + closing + suffix]
    lines = [prefix + opening]
    for p, v in items:
        lines += _placed(layout(v, inner, p, ","), inner)
    return lines + [" " * indent + closing + suffix]


def _placed(lines: list[str], indent: int) -> list[str]:
    """``lines`` of :func:`layout` with the first one placed at column ``indent``."""
    return [" " * indent + lines[0]] + lines[1:]


def image_code(template: str, product_id: str | None, many: bool, name: str | None = None,
               extra: dict | None = None) -> Call:
    """``wf.catalog.Image(name=..., product_id=..., ...)`` for the catalog destination.

    With ``many`` (one job per tile) the name is computed from the loop's ``tile`` with the
    template; else it is ``name``, the template already applied. ``extra``: other fields of
    the Image (in their normal form), as keyword arguments.
    """
    if many:
        expr: Any = (Code('tile.key.replace(":", "_")') if template == "{tile_key}" else
                     Code(f'{py(template)}.format(tile_key=tile.key.replace(":", "_"))'))
    else:
        expr = name
    args: list[tuple[str | None, Any]] = [("name", expr), ("product_id", product_id)]
    args += [(key, value) for key, value in (extra or {}).items()]
    return Call("wf.catalog.Image", tuple(args))


def compute_call(value_name: str, geoctx_name: str | None, destination: dict, fmt: dict, many: bool,
                 notify: dict | None = None, retries: int = 0) -> str:
    """The call: ``value.compute(tile, destination=..., format=...)``, laid out as black would.

    ``many``: a list comprehension launching one job per item of ``geoctx_name``
    (``block=False``); ``geoctx_name`` None: no geoctx argument. ``notify`` and ``retries``
    are written when given (not None, not 0).
    """
    kw: list[tuple[str | None, Any]] = [("destination", destination), ("format", fmt)]
    if notify:
        kw.append(("notify", notify))
    if retries:
        kw.append(("retries", retries))
    if many:
        call = Call(f"{value_name}.compute", tuple([(None, Code("tile"))] + kw + [("block", False)]))
        return "\n".join(layout(Comprehension(call, f"for tile in {geoctx_name}"), 0, "jobs = "))
    args: Sequence[tuple[str | None, Any]] = ([(None, Code(geoctx_name))] if geoctx_name is not None else []) + kw
    return "\n".join(layout(Call(f"{value_name}.compute", tuple(args))))
