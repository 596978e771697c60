"""What every widget of wf_widgets shares.

* :func:`static_path`: where the ES modules and CSS of the anywidget views are: the wheel
  carries ``js/`` as ``wf_widgets/static/`` (hatch force-include); an editable checkout
  reads ``js/`` beside the package.
* :class:`WidgetBase`: keyword arguments must name public traits, anything else is a
  ``TypeError`` (as lonboard does), so a typo never passes silently.
* :func:`shows_errors`: a decorator for observers and button handlers. An exception raised
  in a callback would otherwise end up in the kernel log where nobody looks; it is logged
  and its text is put into the widget's ``callback_error`` trait, shown under the widget.
* :func:`kernel_loop`: the IOLoop of the running kernel, the only place widget state may be
  changed from (background threads hand their updates to it with ``add_callback``; see
  :class:`~wf_widgets.widgets._poller.Poller`).
* :func:`caller_name`: the variable name a caller bound a value to (names in "Show code",
  default layer names).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import Any, Callable

from tornado.ioloop import IOLoop

log = logging.getLogger("wf_widgets.widgets")

#: The ``wf_widgets`` package folder (a module attribute so tests can move it).
PACKAGE_DIR = Path(__file__).resolve().parent.parent


def static_path(name: str) -> Path:
    """The file ``name`` of the widgets' views (``"jobs_board.js"``).

    Looks in ``wf_widgets/static/`` (installed wheel) first, then in ``js/`` beside the
    package (editable checkout).

    Raises
    ------
    FileNotFoundError
        Naming both places, if neither has the file.
    """
    candidates = (PACKAGE_DIR / "static" / name, PACKAGE_DIR.parent / "js" / name)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"{name} is neither in {candidates[0].parent} nor in {candidates[1].parent}; "
                            "reinstall wf-widgets")


class WidgetBase:
    """Mixin placed first among the bases of a widget: rejects unknown keyword arguments.

    Keyword arguments must name public traits of the widget (its own and those of the
    ipywidgets base, such as ``layout``); anything else raises ``TypeError`` listing the
    accepted names.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        check_kwargs(self, kwargs)
        super().__init__(*args, **kwargs)

    def _show_error(self, exc: BaseException) -> None:
        """Log ``exc`` and show it under the widget (its ``callback_error`` trait)."""
        log.error("Error in a %s callback", type(self).__name__, exc_info=exc)
        text = f"{type(exc).__name__}: {exc}"
        try:
            self.callback_error = text
        except Exception:  # the widget is gone: the log has it
            log.debug("could not show %r", text)


def check_kwargs(widget: Any, kwargs: dict) -> None:
    """Raise TypeError unless every key of ``kwargs`` names a public trait of ``widget``."""
    unknown = sorted(k for k in kwargs if k.startswith("_") or not widget.has_trait(k))
    if unknown:
        accepted = sorted(n for n in widget.trait_names() if not n.startswith("_"))
        raise TypeError(
            f"{type(widget).__name__}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(accepted)}"
        )


def shows_errors(fn: Callable) -> Callable:
    """Decorate a widget method used as a callback: exceptions are logged and shown, not lost.

    On success the previous callback error is cleared, so the line under the widget is
    about the last thing the user did.
    """

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(self, *args, **kwargs)
        except Exception as exc:
            self._show_error(exc)
            return None
        if getattr(self, "callback_error", ""):
            self.callback_error = ""
        return result

    return wrapper


def caller_name(obj: Any, frame: Any) -> str | None:
    """A public name bound to ``obj`` in ``frame`` (locals first, then globals), or None."""
    if frame is None or obj is None:
        return None
    for namespace in (frame.f_locals, frame.f_globals):
        for name, bound in list(namespace.items()):
            if bound is obj and name.isidentifier() and not name.startswith("_") and name not in ("In", "Out"):
                return name
    return None


def kernel_loop() -> Any:
    """The tornado IOLoop running in this thread (a kernel's), or None (plain scripts, pytest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    return IOLoop.current()
