"""Download benchmarks: the standalone server (``python -m wf_widgets.server.standalone``) over loopback.

``download_200mb``: fetching a 200 MB stored result through its signed link with a plain
``http.client`` reader (1 MiB reads into one buffer), against reading the same file from
disk in this process the same way. Both are timed alternately in the same run, median of
3 after a warm-up (so the file is in the page cache for both). Target: ratio <= 2.0.

``download_concurrent_200``: 200 small results fetched by 200 threads at once; prints
how many succeeded (status 200 and the right bytes) and the wall time.

The results are stored straight through the job and result stores (a 200 MB value would
take far longer to compute than to serve); the server reads them exactly as it reads any
computed result. ``WF_WIDGETS_HOME`` is set to a temporary folder unless the caller set it.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

try:
    from _common import paired_medians, ratio_record
except ImportError:  # imported as benchmarks.download
    from benchmarks._common import paired_medians, ratio_record

SIZE = 200 * 1024 * 1024
READ = 1 << 20
TARGET = 2.0
REPEAT = 3
CONCURRENT = 200


def _store(backend, data: bytes) -> str:
    """A SUCCEEDED job whose stored result is ``data``; returns its signed path + query."""
    from wf_widgets.jobs.plan import new_job_id

    job_id = new_job_id()
    backend.jobs.create(job_id, kind="Str", graph={}, geoctx=None, format={"type": "msgpack"},
                        destination={"type": "download"})
    name, size = backend.results.write(job_id, "msgpack", data)
    expires = backend.settings.time() + backend.settings.retention_days * 86400.0
    backend.jobs.finish(job_id, "SUCCEEDED", result_path=name, result_mimetype="application/msgpack",
                        result_size=size, expires=expires)
    return f"/results/{job_id}?{backend.signer.query(job_id, expires)}"


def _start_server(home: str) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    env["WF_WIDGETS_HOME"] = home
    proc = subprocess.Popen([sys.executable, "-m", "wf_widgets.server.standalone", "--port", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    info_file = os.path.join(home, "servers", f"{proc.pid}.json")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the standalone server exited")
        try:
            with open(info_file) as f:
                return proc, json.load(f)["url"]
        except (OSError, ValueError):
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the standalone server did not start within 60 s")


def _download(host: str, port: int, path: str, buf: bytearray) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"GET {path.split('?')[0]}: {resp.status}")
        view, total = memoryview(buf), 0
        while n := resp.readinto(view):
            total += n
        return total
    finally:
        conn.close()


def _read_file(path: str, buf: bytearray) -> int:
    view, total = memoryview(buf), 0
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            total += n
    return total


def _concurrent(host: str, port: int, paths: list[str], expected: list[bytes]) -> tuple[int, float]:
    ok = [False] * len(paths)

    def get(i: int) -> None:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=60)
            conn.request("GET", paths[i])
            resp = conn.getresponse()
            ok[i] = resp.status == 200 and resp.read() == expected[i]
            conn.close()
        except Exception:
            ok[i] = False

    threads = [threading.Thread(target=get, args=(i,)) for i in range(len(paths))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok), time.perf_counter() - start


def run() -> list[dict]:
    """Time the 200 MB download and the 200 concurrent downloads; see the module doc."""
    own_home = "WF_WIDGETS_HOME" not in os.environ
    if own_home:
        os.environ["WF_WIDGETS_HOME"] = tempfile.mkdtemp(prefix="wf-widgets-bench-download-")
    home = os.environ["WF_WIDGETS_HOME"]
    from wf_widgets.backend import Backend

    backend = Backend(sweep=False)
    proc = None
    try:
        big = _store(backend, os.urandom(SIZE))
        big_file = str(backend.results.root / (big.split("/")[2].split("?")[0] + ".msgpack"))
        small = [os.urandom(1024) + i.to_bytes(4, "big") for i in range(CONCURRENT)]
        small_paths = [_store(backend, data) for data in small]
        proc, url = _start_server(home)
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
        buf = bytearray(READ)
        assert _download(host, port, big, buf) == SIZE == _read_file(big_file, buf)

        ours, ref = paired_medians(lambda: _download(host, port, big, buf), lambda: _read_file(big_file, buf),
                                   repeat=REPEAT)
        records = [ratio_record("download_200mb", ours, ref, TARGET)]
        succeeded, wall = _concurrent(host, port, small_paths, small)
        records.append({
            "name": "download_concurrent_200",
            "text": f"download_concurrent_200: {succeeded}/{CONCURRENT} concurrent downloads of ~1 KB results "
                    f"succeeded in {wall:.2f} s; 200 MB at {SIZE / ours / 1e6:.0f} MB/s over loopback "
                    f"(disk read {SIZE / ref / 1e6:.0f} MB/s)",
        })
        return records
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        backend.close()
        if own_home:
            shutil.rmtree(home, ignore_errors=True)
            del os.environ["WF_WIDGETS_HOME"]


if __name__ == "__main__":
    for record in run():
        print(json.dumps(record), flush=True)
