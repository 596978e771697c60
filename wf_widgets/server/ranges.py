"""HTTP ``Range`` headers (RFC 9110, section 14) for one resource of known size.

Only single byte ranges are served; a header naming several ranges is ignored (the whole
resource is sent with 200, which the RFC allows). A syntactically bad header is ignored
too; a well-formed range that lies wholly past the end is *unsatisfiable* (416).
"""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """A well-formed range that selects no byte of the resource (answer 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The byte span a ``Range`` header asks for.

    Parameters
    ----------
    header : str or None
        The ``Range`` request header.
    size : int
        Size of the resource in bytes.

    Returns
    -------
    tuple of int or None
        ``(start, end)`` with ``end`` exclusive, clipped to ``size``; None to send the
        whole resource (no header, several ranges, or a header we don't understand).

    Raises
    ------
    Unsatisfiable
        For a range starting at or past ``size``, or the empty suffix ``bytes=-0``.
    """
    if not header:
        return None
    match = _SINGLE.match(header)
    if match is None:  # several ranges, another unit, or garbage: ignore it
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(0, size - n), size
    start = int(first)
    end = size if last == "" else int(last) + 1
    if last != "" and end <= start:  # last < first: invalid, ignore (RFC 9110 14.1.1)
        return None
    if start >= size:
        raise Unsatisfiable(header)
    return start, min(end, size)
