"""Run the benchmarks: ``python benchmarks/run.py [NAME...]``.

Each NAME (default: all of :data:`MODULES`) names a benchmark; several names may share
one module (``codec_pyarrow`` and ``codec_msgpack`` both live in ``codecs.py``), which
is then run once. A module is ``benchmarks/<module>.py`` with ``run() -> list[dict]``.
Modules not written yet are skipped with a plain-text line.

Output: one JSON object per line for each ratio record (``{"name", "ours_s",
"reference_s", "ratio", "target"}``), and a plain-text line for every other dict a
module returns (its ``"text"``, or its items). Everything runs in a fresh, empty home
folder (``WF_WIDGETS_HOME`` points at a temporary directory, set before anything
imports ``wf_widgets``, and removed at the end).

Exit status: 0, or 1 if a module failed to import or run, or 2 for unknown names.

Some references are optional packages, in the ``benchmark`` extra (``pip install -e
".[benchmark]"``): TiTiler (``titiler.core`` under ``uvicorn``) for ``tile_server_http``,
which without them reports our figures alone.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

#: Benchmark name -> module name in this folder.
MODULES: dict[str, str] = {
    "overhead_jobs": "jobs",
    "overhead_jobs_postgres": "jobs_postgres",
    "concurrent_jobs": "concurrent_jobs",
    "codec_pyarrow": "codecs",
    "codec_msgpack": "codecs",
    "composite": "composite",
    "geotiff_encode": "geotiff_encode",
    "catalog_upload": "catalog_upload",
    "tile_render": "tile_render",
    "download_200mb": "download",
    "catalog_scale": "catalog_scale",
    "tile_server_http": "tile_server_http",
    "job_lookup": "job_lookup",
    "stac_search": "stac_search",
    "bulk_cluster": "bulk_cluster",
}

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _text(record: dict) -> str:
    if "text" in record:
        return str(record["text"])
    name = record.get("name", "?")
    rest = ", ".join(f"{k}={v}" for k, v in record.items() if k != "name")
    return f"{name}: {rest}"


def _selected(record: dict, names: list[str]) -> bool:
    """Whether to print a record: those of benchmarks not asked for are left out."""
    name = str(record.get("name", ""))
    owners = [key for key in MODULES if name == key or name.startswith(key + "_")]
    return not owners or max(owners, key=len) in names


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks and print their records; returns the exit status."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(MODULES)}", file=sys.stderr)
        return 2

    home = tempfile.mkdtemp(prefix="wf-widgets-bench-")
    os.environ["WF_WIDGETS_HOME"] = home
    os.environ.pop("WF_WIDGETS_CONFIG", None)  # the default config lives in the (empty) home
    # ``benchmarks.<module>`` imports (the repo root first) and ``from _common import``
    # (this folder last, so that e.g. jobs.py never shadows an installed module).
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if str(HERE) not in sys.path:
        sys.path.append(str(HERE))

    status = 0
    done: set[str] = set()
    try:
        for name in names:
            module_name = MODULES[name]
            if module_name in done:
                continue
            done.add(module_name)
            if not (HERE / f"{module_name}.py").exists():
                print(f"skipped {name}: benchmarks/{module_name}.py does not exist yet", flush=True)
                continue
            try:
                # As a submodule of the ``benchmarks`` folder: a bare ``codecs`` would be the
                # standard library's.
                module = importlib.import_module(f"benchmarks.{module_name}")
                records = module.run()
            except Exception:
                status = 1
                print(f"failed {name} (benchmarks/{module_name}.py):", flush=True)
                traceback.print_exc(file=sys.stdout)
                continue
            for record in records:
                if not _selected(record, names):
                    continue
                print(json.dumps(record) if "ratio" in record else _text(record), flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
