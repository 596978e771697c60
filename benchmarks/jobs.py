"""overhead_jobs: 1,000 trivial blocking jobs vs. the same work done by hand.

Ours: ``(wf.Int(i) + 1).compute()`` (download destination, pyarrow, block=True): the job
row, the runner's thread, progress rows, the stored file, waiting and decoding. The rows
held meanwhile (``wf_widgets.jobs.held``) are written before the timing ends, so none of
ours is written while the reference is timed.
Reference, in the same run: evaluate the same graph, encode it as pyarrow, write a new
file (as the result store does: every job gets a file of its own, and creating a file costs
several times more than overwriting one here) and insert one row into a SQLite table (WAL,
synchronous=NORMAL, as the job store), then decode.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import tempfile
from pathlib import Path

try:
    from _common import paired_medians, ratio_record
except ImportError:  # imported as benchmarks.jobs
    from benchmarks._common import paired_medians, ratio_record

N = 1000
#: Timed runs of each (medians are reported): every run creates 1,000 files, and the kernel's
#: writeback of earlier ones lands in whichever timing it meets; five runs outvote it.
REPEAT = 5


def run() -> list[dict]:
    import wf_widgets as wf
    from wf_widgets.engine.evaluate import evaluate
    from wf_widgets.outputs.codecs import decode, encode

    home = Path(tempfile.mkdtemp(prefix="wf-bench-jobs-"))
    backend = wf.Backend(wf.Settings(home=home / "ours"))
    previous = wf.set_backend(backend)
    values = [wf.Int(i) + 1 for i in range(N)]

    ref_dir = home / "reference"
    ref_dir.mkdir()
    conn = sqlite3.connect(ref_dir / "rows.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, graph TEXT, path TEXT, size INTEGER)")

    def ours() -> None:
        for i, v in enumerate(values):
            assert v.compute() == i + 1
        backend.jobs.write_held()  # the rows it holds, written within the timing (not during the reference's)

    runs = itertools.count()

    def reference() -> None:
        run = next(runs)
        for i, v in enumerate(values):
            result = evaluate(v.node)
            data = encode("pyarrow", result, {"compression": "lz4"})
            path = ref_dir / f"{run}-{i}.arrow"
            with open(path, "xb") as f:
                f.write(data)
            conn.execute("INSERT INTO rows VALUES (?, ?, ?, ?)",
                         (run * N + i, json.dumps(v.to_json()), str(path), len(data)))
            assert decode("pyarrow", data) == i + 1

    try:
        ours_s, ref_s = paired_medians(ours, reference, repeat=REPEAT)
    finally:
        wf.set_backend(previous)
        backend.close()
        conn.close()
    return [
        ratio_record("overhead_jobs", ours_s, ref_s, 1.3),
        {"name": "overhead_jobs_per_job", "text": f"overhead_jobs: {ours_s / N * 1e6:.0f} us per blocking job, "
                                                  f"{ref_s / N * 1e6:.0f} us by hand"},
    ]


if __name__ == "__main__":
    for record in run():
        print(json.dumps(record) if "ratio" in record else record["text"])
