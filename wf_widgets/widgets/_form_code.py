"""The ExportForm's "Show code" text: the ``value.compute(...)`` call its choices amount to.

Pure functions of names and dicts (the form builds the dicts with the same walk over the
options as the ones it launches with, so the code normalises to exactly the same).
"""

from __future__ import annotations

import json
from typing import Any

#: Longest one-line call; longer ones get one argument per line.
LINE_WIDTH = 100


class Code(str):
    """Python source text to print as is (not as a string literal)."""


def py(obj: Any) -> str:
    """Python source of a JSON-like value (double-quoted strings, True/False/None); :class:`Code` as is."""
    if isinstance(obj, Code):
        return str(obj)
    if obj is None or isinstance(obj, bool):
        return repr(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, (int, float)):
        return repr(obj)
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(py(v) for v in obj) + "]"
    return repr(obj)


def image_code(template: str, product_id: str | None, many: bool, name: str | None = None) -> Code:
    """``wf.catalog.Image(name=..., product_id=...)`` for the catalog destination.

    With ``many`` (one job per tile) the name is computed from the loop's ``tile`` with the
    template; else it is ``name``, the template already applied.
    """
    if many:
        expr = ('tile.key.replace(":", "_")' if template == "{tile_key}" else
                f'{py(template)}.format(tile_key=tile.key.replace(":", "_"))')
    else:
        expr = py(name)
    return Code(f"wf.catalog.Image(name={expr}, product_id={py(product_id)})")


def compute_call(value_name: str, geoctx_name: str | None, destination: dict, fmt: dict, many: bool) -> str:
    """The call: ``value.compute(tile, destination=..., format=...)``.

    ``many``: a list comprehension launching one job per item of ``geoctx_name``
    (``block=False``); ``geoctx_name`` None: no geoctx argument.
    """
    kw = [f"destination={py(destination)}", f"format={py(fmt)}"]
    v = value_name
    if many:
        call = f"{v}.compute({', '.join(['tile'] + kw + ['block=False'])})"
        one_line = f"jobs = [{call} for tile in {geoctx_name}]"
        if len(one_line) <= LINE_WIDTH:
            return one_line
        args = ",\n        ".join(["tile"] + kw + ["block=False"])
        return f"jobs = [\n    {v}.compute(\n        {args},\n    )\n    for tile in {geoctx_name}\n]"
    args = ([geoctx_name] if geoctx_name is not None else []) + kw
    one_line = f"{v}.compute({', '.join(args)})"
    if len(one_line) <= LINE_WIDTH:
        return one_line
    return f"{v}.compute(\n    " + ",\n    ".join(args) + ",\n)"
