#!/usr/bin/env python3
"""Measure what the start-up sweep and ``wf-widgets jobs`` cost as the job history grows.

Usage::

    python scripts/measure_sweep.py [--tree PATH] [--jobs 1000,100000] [--repeat 5] [--work DIR]

``--tree`` is the checkout whose ``wf_widgets`` is measured (default: this one), so the same
script measures an old worktree ("before") and this one ("after"). Each home is made with
the package's own ``JobStore`` (its schema, its migrations), then filled with SQL directly:

- ``N`` job rows over the last 100 days (time-ordered ids, a 1.5 kB graph each), 80 %
  SUCCEEDED, 12 % FAILED, 8 % CANCELLED; destinations 60 % download, 20 % email, 20 % catalog;
- the newest ``--live`` (default 500) succeeded download/email rows have a live result (a
  file of 100 bytes, size and SHA-256 in the row, expiring over the next 10 days); older
  ones expired and were deleted, as the sweep leaves them;
- 20 results expired since the last sweep (file still there), 10 orphan files (no row),
  3 jobs of a dead worker (RUNNING/QUEUED on this host, a pid that does not exist), 1 %
  of rows list a blob file.

So the stored results are the same at every ``N``: only the history grows. Each home is
swept once (steady state) before timing. Every figure is the median of ``--repeat`` fresh
processes (wall time measured inside the process, after ``import wf_widgets``, except the
command line, timed from outside as a user sees it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAY = 86400.0
HERE = Path(__file__).resolve().parent.parent
GRAPH = json.dumps({"nodes": {f"n{i}": {"op": "image.mean", "args": [{"ref": f"n{i + 1}"}, {"lit": "x" * 40}],
                                        "kwargs": {"axis": {"lit": "images"}}} for i in range(12)},
                    "root": "n0"})


def _run(tree: Path, code: str, env: dict | None = None) -> str:
    full = {**os.environ, "PYTHONPATH": str(tree), **(env or {})}
    # cwd: ``python -c`` and ``-m`` put the working folder first on sys.path, before PYTHONPATH.
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, check=False,
                         cwd=tree)
    if out.returncode:
        raise SystemExit(f"failed: {code}\n{out.stderr}")
    return out.stdout


def make_home(tree: Path, home: Path, n: int, live: int) -> None:
    """A home with ``n`` job rows (see the module doc), schema made by ``tree``'s JobStore."""
    _run(tree, "import sys; from wf_widgets.config import Settings; from wf_widgets.jobs.store import JobStore;"
               f"JobStore(Settings(home={str(home)!r})).close()")
    results = home / "results"
    results.mkdir(mode=0o700, exist_ok=True)
    now = time.time()
    host = socket.gethostname()
    dead_pid = 4_194_000  # above the usual pid_max: no such process
    rows = []
    data = b"r" * 100
    sha = hashlib.sha256(data).hexdigest()
    stages = ["SUCCEEDED"] * 80 + ["FAILED"] * 12 + ["CANCELLED"] * 8
    dests = ["download"] * 3 + ["email"] + ["catalog"]
    live_left, expired_left = live, 20
    for i in range(n - 1, -1, -1):  # newest first, so the newest rows get the live results
        created = now - 100 * DAY * (n - i) / n
        job_id = f"{int(created * 1000):012x}{secrets.token_hex(18)}"
        stage = stages[i % 100]
        dest = dests[i % 5]
        finished = created + 5.0
        path = size = digest = expires = None
        deleted = 0
        if stage == "SUCCEEDED" and dest != "catalog":
            path, size, digest = f"{job_id}.json", len(data), sha
            if live_left:  # expiring over the next 10 days, whatever N
                expires, live_left = now + 10 * DAY * live_left / live, live_left - 1
                (results / path).write_bytes(data)
            elif expired_left:
                expires, expired_left = now - 60.0, expired_left - 1
                (results / path).write_bytes(data)
            else:
                expires, deleted = min(finished + 10 * DAY, now - 3600.0), 1
        blobs = json.dumps([hashlib.sha256(job_id.encode()).hexdigest()]) if i % 100 == 7 else None
        rows.append((job_id, "Int", GRAPH, None, json.dumps({"type": "json"}), json.dumps({"type": dest}), None,
                     stage, 1, 1, "NONE" if stage != "FAILED" else "COMPUTE", created, created + 1, finished,
                     finished, path, "application/json" if path else None, size, digest, expires, deleted,
                     host, 1000 + i % 30000, None, blobs))
    for k, stage in enumerate(("RUNNING", "QUEUED", "RUNNING")):  # jobs of a dead worker
        created = now - 3600.0 * (k + 1)
        job_id = f"{int(created * 1000):012x}{secrets.token_hex(18)}"
        rows.append((job_id, "Int", GRAPH, None, json.dumps({"type": "json"}), json.dumps({"type": "download"}),
                     None, stage, 0, 1, "NONE", created, created if stage != "QUEUED" else None, None, created,
                     None, None, None, None, None, 0, host, dead_pid, created if stage != "QUEUED" else None, None))
    conn = sqlite3.connect(home / "jobs.sqlite", isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO jobs (id, kind, graph, geoctx, format, destination, label, stage, steps_done, steps_total,"
        " error_code, created, started, finished, updated, result_path, result_mimetype, result_size,"
        " result_sha256, expires, result_deleted, host, pid, heartbeat, blobs)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for _ in range(10):
        (results / f"{int(now * 1000):012x}{secrets.token_hex(18)}.json").write_bytes(data)


def restore(home: Path, snapshot: Path) -> None:
    """Put the home back as it was made (each measurement starts from the same state)."""
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(snapshot, home)
    os.sync()  # else the first checkpoint's fsync pays for writing the whole copy back


LAUNCH = """
import time, wf_widgets as wf
t0 = time.perf_counter()
b = wf.Backend(wf.Settings.from_env(home={home!r}))
assert (wf.Int(1) + 1).compute(backend=b) == 2
t1 = time.perf_counter()
b.close()
print(t1 - t0)
"""
SWEEP = """
import time, wf_widgets as wf
b = wf.Backend(wf.Settings(home={home!r}), sweep=False)
b.jobs
t0 = time.perf_counter()
counts = b.sweep(checksums={checksums})
t1 = time.perf_counter()
b.close()
print(t1 - t0)
"""

# What the sweep's partial indexes cost each job and save each sweep: the same home twice, one
# copy without the indexes, timed in turns (medians of rounds of 100 job lifecycles).
INDEX_COST = """
import json, secrets, statistics, time
from wf_widgets.config import Settings
from wf_widgets.jobs.store import JobStore
GRAPH = json.loads({graph!r})
INDEXES = ("jobs_unfinished", "jobs_stored_results", "jobs_with_blobs")
stores = {{"with": JobStore(Settings(home={with_home!r})), "without": JobStore(Settings(home={without_home!r}))}}
present = {{r[0] for r in stores["with"]._conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")}}
if not set(INDEXES) <= present:
    raise SystemExit("this tree's job store has no sweep indexes")
for name in INDEXES:
    stores["without"]._conn().execute("DROP INDEX " + name)
steps = ("create", "start", "progress x2", "finish", "mark_deleted")
times = {{k: {{s: [] for s in steps}} for k in stores}}
for rnd in range({rounds}):
    for key in (("with", "without") if rnd % 2 else ("without", "with")):
        store, t = stores[key], dict.fromkeys(steps, 0.0)
        ids = [f"{{time.time_ns() // 1_000_000:012x}}{{secrets.token_hex(18)}}" for _ in range(100)]
        for job_id in ids:
            t0 = time.perf_counter()
            store.create(job_id, kind="Int", graph=GRAPH, geoctx=None, format={{"type": "json"}},
                         destination={{"type": "download"}})
            t1 = time.perf_counter()
            store.start(job_id)
            t2 = time.perf_counter()
            store.progress(job_id, stage="RUNNING", steps_total=1)
            store.progress(job_id, stage="SAVING", steps_done=1)
            t3 = time.perf_counter()
            store.finish(job_id, "SUCCEEDED", result_path=job_id + ".json", result_size=1, result_sha256="0" * 64,
                         expires=time.time() + 864000)
            t4 = time.perf_counter()
            for s, d in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                t[s] += d
        t0 = time.perf_counter()
        for job_id in ids:
            store.mark_deleted(job_id)
        t["mark_deleted"] += time.perf_counter() - t0
        for s in steps:
            times[key][s].append(t[s] / len(ids) * 1e6)
for key in stores:
    med = {{s: statistics.median(v) for s, v in times[key].items()}}
    print(f"  {{key + ' indexes:':<17}}" + "  ".join(f"{{s}} {{v:4.0f}}" for s, v in med.items())
          + f"  total {{sum(med.values()):4.0f}} us per job")
diffs = {{s: statistics.median(a - b for a, b in zip(times["with"][s], times["without"][s])) for s in steps}}
print("  paired difference (median of rounds): " + "  ".join(f"{{s}} {{v:+4.0f}}" for s, v in diffs.items())
      + f"  total {{sum(diffs.values()):+4.0f}} us per job")
now = time.time()
for key, store in stores.items():
    med = {{}}
    for name, f in (("reap_stale", store.reap_stale), ("expired", lambda: store.expired(now)),
                    ("live_results", lambda: store.live_results(now)),
                    ("blob_refs", lambda: store.blob_refs(now - 864000.0))):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            f()
            runs.append(time.perf_counter() - t0)
        med[name] = statistics.median(runs) * 1e3
    print(f"  {{key + ' indexes:':<17}}" + "  ".join(f"{{k}} {{v:.1f}} ms" for k, v in med.items()))
"""


def index_cost(tree: Path, snapshot: Path, work: Path, rounds: int) -> None:
    """Print :data:`INDEX_COST` for a copy of ``snapshot`` (made by ``tree``)."""
    homes = [work / "index-with", work / "index-without"]
    for home in homes:
        restore(home, snapshot)
    print(_run(tree, INDEX_COST.format(graph=GRAPH, with_home=str(homes[0]), without_home=str(homes[1]),
                                       rounds=rounds)), end="")

CLI_JOBS = """
import contextlib, io, os, time
from wf_widgets import cli
os.environ["WF_WIDGETS_HOME"] = {home!r}
t0 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["jobs"]) == 0
print(time.perf_counter() - t0)
"""


def timed(tree: Path, code: str, repeat: int, env: dict | None = None) -> float:
    return statistics.median(float(_run(tree, code, env).split()[-1]) for _ in range(repeat))


def wall(tree: Path, argv: list[str], repeat: int, env: dict | None = None) -> float:
    full = {**os.environ, "PYTHONPATH": str(tree), **(env or {})}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *argv], env=full, capture_output=True, check=True, cwd=tree)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE)
    parser.add_argument("--jobs", default="1000,100000")
    parser.add_argument("--live", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--index-cost", action="store_true",
                        help="also time job lifecycles and the sweep's queries with and without its indexes "
                             "(trees that have them), at the largest --jobs")
    args = parser.parse_args()
    tree = args.tree.resolve()
    version = _run(tree, "import wf_widgets; print(wf_widgets.__file__)").strip()
    if not version.startswith(str(tree)):
        raise SystemExit(f"{tree} imports another wf_widgets: {version}")
    work = Path(args.work or tempfile.mkdtemp(prefix="wf-measure-sweep-"))
    print(f"tree {tree}; work {work}")

    empty = work / "empty"
    print(f"python -c 'import wf_widgets': {wall(tree, ['-c', 'import wf_widgets'], args.repeat) * 1e3:.0f} ms"
          f"  (bare python: {wall(tree, ['-c', 'pass'], args.repeat) * 1e3:.0f} ms)")
    cli = ["-m", "wf_widgets.cli", "jobs"]
    base = wall(tree, cli, args.repeat, {"WF_WIDGETS_HOME": str(empty)})
    print(f"wf-widgets jobs, no home: {base * 1e3:.0f} ms (made a job store: {(empty / 'jobs.sqlite').exists()})")
    shutil.rmtree(empty, ignore_errors=True)
    base_main = timed(tree, CLI_JOBS.format(home=str(empty)), args.repeat)
    print(f"  of which cli.main(['jobs']) after the imports: {base_main * 1e3:.1f} ms")

    for n in (int(x) for x in args.jobs.split(",")):
        snapshot = work / f"made-{n}"
        t0 = time.perf_counter()
        make_home(tree, snapshot, n, args.live)
        home = work / f"home-{n}"
        restore(home, snapshot)
        print(f"\n{n} jobs (made in {time.perf_counter() - t0:.1f} s, "
              f"{(snapshot / 'jobs.sqlite').stat().st_size / 2**20:.0f} MiB, "
              f"{len(os.listdir(snapshot / 'results'))} result files)")
        first = timed(tree, SWEEP.format(home=str(home), checksums=False), 1)
        print(f"  first sweep (reaps, expires, orphans), sizes only: {first * 1e3:.1f} ms")
        steady = timed(tree, SWEEP.format(home=str(home), checksums=False), args.repeat)
        print(f"  steady sweep, sizes only:                         {steady * 1e3:.1f} ms")
        steady_c = timed(tree, SWEEP.format(home=str(home), checksums=True), args.repeat)
        print(f"  steady sweep, with checksums:                     {steady_c * 1e3:.1f} ms")
        launch = timed(tree, LAUNCH.format(home=str(home)), args.repeat)
        print(f"  Backend() + first compute(), swept recently:      {launch * 1e3:.1f} ms")
        due = timed(tree, LAUNCH.format(home=str(home)), args.repeat, {"WF_WIDGETS_SWEEP_INTERVAL_S": "0"})
        print(f"  Backend() + first compute(), sweep due:           {due * 1e3:.1f} ms")
        jobs = wall(tree, cli, args.repeat, {"WF_WIDGETS_HOME": str(home)})
        print(f"  wf-widgets jobs:                                  {jobs * 1e3:.0f} ms ({(jobs - base) * 1e3:+.0f} ms "
              "over no home)")
        main_s = timed(tree, CLI_JOBS.format(home=str(home)), args.repeat)
        print(f"    of which cli.main(['jobs']) after the imports:  {main_s * 1e3:.1f} ms "
              f"({(main_s - base_main) * 1e3:+.1f} ms over no home)")
    if args.index_cost:
        print(f"\nindex cost at {n} jobs (us per job: create, start, 2 progress, finish, mark_deleted; then the "
              "sweep's queries)")
        index_cost(tree, snapshot, work, rounds=6 * args.repeat + 1)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
