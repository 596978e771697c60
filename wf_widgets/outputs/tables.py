"""Markdown tables of the formats and destinations, generated from the registry.

``docs/formats.md`` and ``docs/destinations.md`` embed these between marker comments;
``python -m wf_widgets.outputs.tables`` rewrites them, and a test checks they are current.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .registry import DESTINATIONS, FORMATS, REQUIRED, Option


def _options(options: tuple[Option, ...]) -> str:
    if not options:
        return "none"
    parts = []
    for o in options:
        default = "required" if o.default is REQUIRED else f"default `{o.default!r}`"
        allowed = f" ({', '.join(f'`{a}`' for a in o.allowed)})" if o.allowed else ""
        parts.append(f"`{o.name}`: {o.type}{allowed}, {default}: {o.description}")
    return "<br>".join(parts)


def formats_table() -> str:
    rows = ["| format | mimetype | extension | result kinds | options |", "|---|---|---|---|---|"]
    for f in FORMATS.values():
        kinds = "all" if len(f.kinds) > 2 else ", ".join(sorted(f.kinds))
        rows.append(f"| `{f.name}` ({f.title}) | `{f.mimetype}` | `.{f.extension}` | {kinds} | {_options(f.options)} |")
    return "\n".join(rows)


def destinations_table() -> str:
    rows = ["| destination | shorthand | formats | options | `compute()` returns |", "|---|---|---|---|---|"]
    for d in DESTINATIONS.values():
        formats = ", ".join(f"`{f}`" for f in d.formats) if d.formats else "all"
        rows.append(f"| `{d.name}` | {d.shorthand} | {formats} | {_options(d.options)} | {d.returns} |")
    return "\n".join(rows)


TABLES = {"formats": formats_table, "destinations": destinations_table}


def render(text: str) -> str:
    """``text`` with every ``<!-- table:NAME -->...<!-- /table -->`` block regenerated."""
    def replace(m: re.Match) -> str:
        return f"<!-- table:{m.group(1)} -->\n{TABLES[m.group(1)]()}\n<!-- /table -->"

    return re.sub(r"<!-- table:(\w+) -->.*?<!-- /table -->", replace, text, flags=re.S)


def main(paths: list[str]) -> int:
    for p in paths or ["docs/formats.md", "docs/destinations.md"]:
        path = Path(p)
        path.write_text(render(path.read_text()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
