"""``wf-widgets demo``: the spec's examples, end to end, with progress bars."""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

import wf_widgets as wf


def _section(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def _show(code: str, fn: Callable[[], Any]) -> Any:
    print(f">>> {code}", flush=True)
    result = fn()
    if result is not None:
        print(repr(result), flush=True)
    return result


def scalar_examples() -> None:
    """The Download examples of the spec, plus each format."""
    _section("Download")
    two = wf.Int(1) + 1
    _show("two.compute(destination='download')", lambda: two.compute(destination="download", progress_bar=True))
    _show("two.compute(destination='download', format='json')",
          lambda: two.compute(destination="download", format="json", progress_bar=True))
    _show("two.compute(format='msgpack')", lambda: two.compute(format="msgpack", progress_bar=True))
    _show("wf.Dict({'a': wf.List([1.5, 2]), 'b': wf.Str('x') + 'y'}).compute()",
          lambda: wf.Dict({"a": wf.List([1.5, 2]), "b": wf.Str("x") + "y"}).compute(progress_bar=True))
    job = two.compute(block=False)
    job.wait()
    print(f"download link (valid until {job.expires_datetime:%Y-%m-%d %H:%M} UTC): {job.url}")


def run_demo() -> int:
    """Run every demo section; returns the process exit code."""
    start = time.monotonic()
    try:
        scalar_examples()
    except Exception as exc:  # the demo is the newcomer's first contact: say what failed, exit non-zero
        print(f"\nwf-widgets demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"\nDemo finished in {time.monotonic() - start:.1f} s; data in {wf.get_backend().settings.home}")
    return 0
