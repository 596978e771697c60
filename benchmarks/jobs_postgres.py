"""overhead_jobs_postgres: the 1,000 trivial blocking jobs of overhead_jobs, with the stores on PostgreSQL.

Ours: ``(wf.Int(i) + 1).compute()`` with ``WF_WIDGETS_DATABASE_URL`` naming a PostgreSQL
database: the job row (created, then finished: two statements through the pool), the
stored file, waiting and decoding, as overhead_jobs.
Reference, in the same run: the work of overhead_jobs's reference (evaluate, encode as
pyarrow, write a new file, decode) plus the same two statements by hand with psycopg on one
connection: the job store's INSERT of the row and its UPDATE at the end, into the same table.

Both run against one throwaway PostgreSQL cluster started here on 127.0.0.1
(``tests/_postgres.py``, as the tests start theirs; it needs Debian's ``postgresql``).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import tempfile
import time
from pathlib import Path

try:
    from _common import paired_medians, ratio_record
except ImportError:  # imported as benchmarks.jobs_postgres
    from benchmarks._common import paired_medians, ratio_record

N = 1000


def run() -> list[dict]:
    import psycopg

    import wf_widgets as wf
    from tests._postgres import ThrowawayPostgres
    from wf_widgets.engine.evaluate import evaluate
    from wf_widgets.jobs.store import JobStore, own_start_time
    from wf_widgets.outputs.codecs import decode, encode

    home = Path(tempfile.mkdtemp(prefix="wf-bench-jobs-pg-"))
    values = [wf.Int(i) + 1 for i in range(N)]
    with ThrowawayPostgres() as pg:
        backend = wf.Backend(wf.Settings(home=home / "ours", database_url=pg.new_schema_url()))
        previous = wf.set_backend(backend)
        ref_url = pg.new_schema_url()
        JobStore(wf.Settings(home=home / "schema", database_url=ref_url)).close()  # the same table, empty
        conn = psycopg.connect(ref_url, autocommit=True)
        ref_dir = home / "reference"
        ref_dir.mkdir()
        fmt, dest = json.dumps({"type": "pyarrow", "compression": "lz4"}), json.dumps({"type": "download"})
        host, pid, pid_start = socket.gethostname(), os.getpid(), own_start_time()

        def ours() -> None:
            for i, v in enumerate(values):
                assert v.compute() == i + 1

        runs = itertools.count()

        def reference() -> None:
            run = next(runs)
            for i, v in enumerate(values):
                job_id = f"{run:08x}{i:040x}"
                now = time.time()
                conn.execute(
                    "INSERT INTO jobs (id, kind, graph, geoctx, format, destination, label, stage, created, started,"
                    " updated, host, pid, pid_start, heartbeat, blobs, link_base, link_note, owner, owner_email)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (job_id, "Int", json.dumps(v.to_json()), None, fmt, dest, None, "PREPARING", now, now, now, host,
                     pid, pid_start, now, None, None, None, "user:bench", None))
                result = evaluate(v.node)
                data = encode("pyarrow", result, {"compression": "lz4"})
                path = ref_dir / f"{job_id}.arrow"
                with open(path, "xb") as f:
                    f.write(data)
                now = time.time()
                conn.execute(
                    "UPDATE jobs SET stage = %s, error_code = %s, error_message = %s, finished = %s, updated = %s,"
                    " steps_done = COALESCE(%s, steps_done), steps_total = COALESCE(%s, steps_total), result_path = %s,"
                    " result_mimetype = %s, result_size = %s, result_sha256 = %s, result_ref = %s, expires = %s,"
                    " heartbeat = NULL WHERE id = %s",
                    ("SUCCEEDED", "NONE", None, now, now, 2, 2, path.name, "application/vnd.apache.arrow.stream",
                     len(data), None, None, now + 864000.0, job_id))
                assert decode("pyarrow", data) == i + 1

        try:
            ours_s, ref_s = paired_medians(ours, reference, repeat=3)
        finally:
            wf.set_backend(previous)
            backend.close()
            conn.close()
    return [
        ratio_record("overhead_jobs_postgres", ours_s, ref_s, 2.0),
        {"name": "overhead_jobs_postgres_per_job",
         "text": f"overhead_jobs_postgres: {ours_s / N * 1e6:.0f} us per blocking job, {ref_s / N * 1e6:.0f} us by hand"},
    ]


if __name__ == "__main__":
    for record in run():
        print(json.dumps(record) if "ratio" in record else record["text"])
