"""Write ``wf_widgets/engine/colormaps.txt``: the renderer's 256-entry colormap tables.

Run once, with matplotlib importable (it is no dependency of wf_widgets)::

    python scripts/make_colormaps.py

Each table is matplotlib's ``colormaps[name](numpy.arange(256), bytes=True)[:, :3]`` (the
alpha column is always 255), written as one line ``<name> <256 RRGGBB entries>``.
rio-tiler's bundled tables (``rio_tiler.colormap.cmap``) are the same bytes; the tests
check ours against them.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import colormaps

#: The tables the renderer offers: each of these and its ``_r`` reverse.
NAMES = ("gray", "viridis", "magma", "inferno", "plasma")
OUT = Path(__file__).resolve().parent.parent / "wf_widgets" / "engine" / "colormaps.txt"


def main() -> None:
    lines = [
        f"# Colormap tables of wf_widgets.engine.render: matplotlib {matplotlib.__version__}'s",
        "# colormaps[name](numpy.arange(256), bytes=True)[:, :3], written by scripts/make_colormaps.py.",
        "# One line per table: <name> <256 entries of RRGGBB, index 0 first>.",
    ]
    for base in NAMES:
        for name in (base, base + "_r"):
            rgba = colormaps[name](np.arange(256), bytes=True)
            assert rgba.shape == (256, 4) and (rgba[:, 3] == 255).all(), name
            lines.append(f"{name} {rgba[:, :3].astype(np.uint8).tobytes().hex()}")
    OUT.write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"wrote {len(lines) - 3} tables to {OUT}")


if __name__ == "__main__":
    main()
