"""Helpers shared by the benchmark modules.

Every benchmark module exposes ``run() -> list[dict]``. A dict made by
:func:`ratio_record` (it has a ``"ratio"``) is printed by ``benchmarks/run.py`` as one
JSON line; any other dict is an absolute figure, printed as a plain-text line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Iterator


def timeit_median(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall-clock time of ``fn()`` in seconds.

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    repeat : int, default 5
        Number of timed calls.
    warmup : int, default 1
        Untimed calls made first (imports, caches, allocator warm-up).

    Returns
    -------
    float
        The median of the ``repeat`` timings (``time.perf_counter``).
    """
    for _ in range(warmup):
        fn()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def paired_medians(
    ours: Callable[[], Any], reference: Callable[[], Any], repeat: int = 5, warmup: int = 1
) -> tuple[float, float]:
    """Median times of two functions timed in alternation, so drift hits both alike.

    Parameters
    ----------
    ours, reference : callable
        Called with no arguments.
    repeat : int, default 5
        Timed calls of each.
    warmup : int, default 1
        Untimed calls of each first.

    Returns
    -------
    tuple of float
        ``(ours_s, reference_s)``, medians in seconds.
    """
    for _ in range(warmup):
        ours()
        reference()
    a, b = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference()
        b.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def ratio_record(name: str, ours_s: float, reference_s: float, target: float) -> dict:
    """One ratio result.

    Parameters
    ----------
    name : str
        The benchmark's name (``"codec_pyarrow"``, ...).
    ours_s : float
        Our time in seconds.
    reference_s : float
        The reference's time in seconds, measured in the same run.
    target : float
        The largest acceptable ratio.

    Returns
    -------
    dict
        ``{"name", "ours_s", "reference_s", "ratio", "target"}`` with
        ``ratio = ours_s / reference_s``.
    """
    return {
        "name": name,
        "ours_s": round(ours_s, 6),
        "reference_s": round(reference_s, 6),
        "ratio": round(ours_s / reference_s, 3) if reference_s > 0 else float("inf"),
        "target": target,
    }


@contextlib.contextmanager
def temp_home(prefix: str = "wf-bench-home-") -> Iterator[None]:
    """Point ``WF_WIDGETS_HOME`` at a temporary folder unless the caller set one; removed afterwards.

    Lets a benchmark module run on its own (``python benchmarks/composite.py``) without
    touching the user's home folder; ``run.py`` sets one for every module already.
    """
    own = None
    if not os.environ.get("WF_WIDGETS_HOME"):
        own = os.environ["WF_WIDGETS_HOME"] = tempfile.mkdtemp(prefix=prefix)
    try:
        yield
    finally:
        if own is not None:
            os.environ.pop("WF_WIDGETS_HOME", None)
            shutil.rmtree(own, ignore_errors=True)



def start_standalone(home: str, timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """Start ``python -m wf_widgets.server.standalone --port 0`` on ``home`` (what ``wf-widgets serve`` runs).

    Returns
    -------
    tuple
        ``(process, base URL)``; the URL is read from the server's registration file.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    env["WF_WIDGETS_HOME"] = home
    proc = subprocess.Popen([sys.executable, "-m", "wf_widgets.server.standalone", "--port", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    info_file = os.path.join(home, "servers", f"{proc.pid}.json")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the standalone server exited")
        try:
            with open(info_file) as f:
                return proc, json.load(f)["url"]
        except (OSError, ValueError):
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the standalone server did not start within {timeout:.0f} s")


def stop_process(proc: subprocess.Popen | None) -> None:
    """SIGTERM ``proc`` (a server started here) and wait for it; SIGKILL after 30 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
