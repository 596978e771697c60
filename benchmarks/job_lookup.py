"""job_lookup: finding a job by the fragment people see, in a store of 100,000 jobs.

People name a job by its short id (the first 8 characters of its id's random part: ids of
jobs launched together share their time part) or by a prefix of its id
(``wf.Job.get``, ``wf-widgets jobs show``). :meth:`JobStore.find_ids` reads both from
indexes: the primary key for a prefix, the expression index ``jobs_id_fragment`` for a
fragment. Ratio records (target 0.05): ``job_lookup_fragment`` and ``job_lookup_prefix``,
each against a scan of every id for the same match (``NOT INDEXED``), on the same store.
Plain-text figures: what the index costs inserts (100,000 rows in batches of 1,000, with
and without it) and the file.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

from _common import ratio_record, timeit_median

from wf_widgets.config import Settings
from wf_widgets.jobs.store import JobStore

N_JOBS = 100_000
SAME_MS = 50  # jobs launched together: one time part for each batch of this many


def _fill(store: JobStore, ids: list[str]) -> float:
    conn = store._conn()
    rows = [(job_id, "Int", "{}", '{"type": "json"}', '{"type": "download"}', "1024:16:10.0:13:1:2", "SUCCEEDED",
             0.0, 0.0) for job_id in ids]
    start = time.perf_counter()
    for i in range(0, len(rows), 1000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO jobs (id, kind, graph, format, destination, label, stage, created, updated)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows[i:i + 1000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return elapsed


def run() -> list[dict]:
    t0 = time.time_ns() // 1_000_000
    ids = [f"{t0 + i // SAME_MS:012x}{secrets.token_hex(18)}" for i in range(N_JOBS)]
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(Settings(home=Path(tmp) / "indexed"))
        plain = JobStore(Settings(home=Path(tmp) / "plain"))
        plain._conn().execute("DROP INDEX jobs_id_fragment")
        insert_indexed, insert_plain = _fill(store, ids), _fill(plain, ids)
        size_indexed = (store.path).stat().st_size
        size_plain = (plain.path).stat().st_size
        target = ids[N_JOBS // 2]
        fragment, prefix = target[12:20], target[:16]
        conn = store._conn()
        assert store.find_ids(fragment) == ([target], 1) and store.find_ids(prefix)[0][0] == target

        def scan(sql: str, *params: str):
            return lambda: conn.execute(sql, params).fetchall()

        fragment_scan = scan("SELECT id FROM jobs NOT INDEXED WHERE substr(id, 13, 8) LIKE ?", fragment + "%")
        prefix_scan = scan("SELECT id FROM jobs NOT INDEXED WHERE id LIKE ?", prefix + "%")
        records.append(ratio_record("job_lookup_fragment", timeit_median(lambda: store.find_ids(fragment), 20),
                                    timeit_median(fragment_scan, 20), 0.05))
        records.append(ratio_record("job_lookup_prefix", timeit_median(lambda: store.find_ids(prefix), 20),
                                    timeit_median(prefix_scan, 20), 0.05))
        records.append({"text": f"job_lookup: {N_JOBS} inserts in batches of 1000: {insert_indexed:.2f} s with the "
                                f"fragment index, {insert_plain:.2f} s without "
                                f"({(insert_indexed - insert_plain) / N_JOBS * 1e6:.1f} us more per row); file "
                                f"{size_indexed / 1e6:.1f} MB, {size_plain / 1e6:.1f} MB without"})
        store.close()
        plain.close()
    return records
