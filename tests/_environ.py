"""Pointing ``os.environ`` at a test server for a session, and putting it back."""

from __future__ import annotations

import os


def point_environ(values: dict[str, str]) -> dict[str, str | None]:
    """Set ``values`` in ``os.environ``; returns what they replaced (None: unset), for :func:`restore_environ`."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    return saved


def restore_environ(saved: dict[str, str | None]) -> None:
    """Put back what :func:`point_environ` replaced."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
