"""Download benchmarks: the standalone server (``python -m wf_widgets.server.standalone``) over loopback.

``download_200mb``: fetching a 200 MB stored result through its signed link with a plain
``http.client`` reader (1 MiB reads into one buffer), against the same client fetching the
same file from a minimal HTTP server written here (:func:`sendfile_server`: HTTP/1.1 on
127.0.0.1, the headers, then the whole file by ``os.sendfile``), in its own process like
ours. Both are timed alternately in the same run, median of 9 after a warm-up (so the file
is in the page cache for both). Target: ratio <= 1.0 (as fast as ``sendfile``).

``download_concurrent_200``: 200 small results fetched by 200 threads at once; prints
how many succeeded (status 200 and the right bytes) and the wall time.

The results are stored straight through the job and result stores (a 200 MB value would
take far longer to compute than to serve); the server reads them exactly as it reads any
computed result. ``WF_WIDGETS_HOME`` is set to a temporary folder unless the caller set it.

``python benchmarks/download.py --sendfile-server PATH`` runs the reference server alone
(it prints its port, then serves ``PATH`` to every GET until killed).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

try:
    from _common import paired_medians, ratio_record, start_standalone, stop_process
except ImportError:  # imported as benchmarks.download
    from benchmarks._common import paired_medians, ratio_record, start_standalone, stop_process

SIZE = 200 * 1024 * 1024
READ = 1 << 20
TARGET = 1.0
REPEAT = 9
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


def sendfile_server(path: str) -> None:
    """The reference server: answer every request on 127.0.0.1 (a free port, printed) with ``path``.

    One connection at a time: read the request up to its blank line, send the status line
    and headers (``Content-Length``, ``Connection: close``), then the file with
    ``os.sendfile`` (kernel to socket, no copy through Python), and close. Runs until killed.
    """
    size = os.path.getsize(path)
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\n"
            "Connection: close\r\n\r\n").encode("ascii")
    with socket.create_server(("127.0.0.1", 0)) as server:
        print(server.getsockname()[1], flush=True)
        while True:
            conn, _ = server.accept()
            with conn, open(path, "rb") as f:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    request += chunk
                if b"\r\n\r\n" not in request:
                    continue
                conn.sendall(head)
                offset = 0
                while offset < size:
                    sent = os.sendfile(conn.fileno(), f.fileno(), offset, size - offset)
                    if sent == 0:
                        break
                    offset += sent


def _start_sendfile_server(path: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--sendfile-server", path],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        raise RuntimeError(f"the sendfile server did not start: {line!r}")
    return proc, int(line)


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
    proc = reference = None
    try:
        big = _store(backend, os.urandom(SIZE))
        big_file = str(backend.results.root / (big.split("/")[2].split("?")[0] + ".msgpack"))
        small = [os.urandom(1024) + i.to_bytes(4, "big") for i in range(CONCURRENT)]
        small_paths = [_store(backend, data) for data in small]
        proc, url = start_standalone(home)
        reference, ref_port = _start_sendfile_server(big_file)
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
        buf = bytearray(READ)
        assert _download(host, port, big, buf) == SIZE == _download("127.0.0.1", ref_port, "/", buf)

        ours, ref = paired_medians(lambda: _download(host, port, big, buf),
                                   lambda: _download("127.0.0.1", ref_port, "/", buf), repeat=REPEAT)
        records = [ratio_record("download_200mb", ours, ref, TARGET)]
        succeeded, wall = _concurrent(host, port, small_paths, small)
        records.append({
            "name": "download_concurrent_200",
            "text": f"download_concurrent_200: {succeeded}/{CONCURRENT} concurrent downloads of ~1 KB results "
                    f"succeeded in {wall:.2f} s; 200 MB at {SIZE / ours / 1e6:.0f} MB/s over loopback "
                    f"(the os.sendfile server: {SIZE / ref / 1e6:.0f} MB/s)",
        })
        return records
    finally:
        stop_process(proc)
        stop_process(reference)
        backend.close()
        if own_home:
            shutil.rmtree(home, ignore_errors=True)
            del os.environ["WF_WIDGETS_HOME"]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sendfile-server"] and len(sys.argv) == 3:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        sendfile_server(sys.argv[2])
    else:
        for record in run():
            print(json.dumps(record), flush=True)
