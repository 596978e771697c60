"""Text progress, as the original client printed it.

First ``Job ID: <id>`` on its own line, then one line redrawn in place (``"\r"`` and the
line, left-justified to 79 characters, as the original wrote it; the bar is full once the
job ended)::

    [######] | Steps: 21/21 | Stage: SUCCEEDED

Where the original differs: it wrote a blank line before ``Job ID`` (the spec's own output
has none, so neither do we), and no line end after the last redraw (we end the line, so
what is printed next starts on a line of its own).
"""

from __future__ import annotations

import sys
from typing import Any

from .._cards import progress_line, progress_text  # the line is drawn at the bottom layer (job cards use it too)

__all__ = ["ProgressBar", "in_notebook", "progress_line", "progress_text"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (checked without importing IPython)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class ProgressBar:
    """Writes a job's progress to a stream, or to anything with ``append_stdout``.

    Parameters
    ----------
    target : bool, file-like, object with ``append_stdout``, or None
        None: on in a notebook, off elsewhere. True: ``sys.stdout``. False: off.
    """

    def __init__(self, target: Any = None):
        if target is None:
            target = in_notebook()
        if target is True:
            target = sys.stdout
        self.target = target or None
        self._last = ""
        self._started = False

    def _write(self, text: str) -> None:
        if hasattr(self.target, "append_stdout"):
            self.target.append_stdout(text)
        else:
            self.target.write(text)
            flush = getattr(self.target, "flush", None)
            if flush:
                flush()

    def update(self, job_id: str, steps_done: int, steps_total: int, stage: str) -> None:
        """Draw the current state (no-op when off, or when nothing changed)."""
        if self.target is None:
            return
        if not self._started:
            self._write(f"Job ID: {job_id}\n")
            self._started = True
        text = progress_text(steps_done, steps_total, stage)
        if text == self._last:
            return
        pad = " " * max(0, len(self._last) - len(text))
        self._write(f"{text}{pad}")
        self._last = text

    def note(self, message: str) -> None:
        """Write ``message`` on a line of its own (the original's ``Cancelling job <id>``), if drawing."""
        if self.target is not None and self._started:
            self._write(f"\n{message}\n")
            self._last = ""

    def close(self) -> None:
        if self.target is not None and self._started:
            self._write("\n")
            self._started = False
