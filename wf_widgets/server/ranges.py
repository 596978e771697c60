"""HTTP ``Range`` headers (RFC 9110, section 14) for one resource of known size.

Only single byte ranges are served; a header naming several ranges is ignored (the whole
resource is sent with 200, which the RFC allows). A syntactically bad header is ignored
too; a well-formed range that lies wholly past the end is *unsatisfiable* (416).

Numbers of any length are read exactly without converting them whole (Python refuses to
turn more than 4,300 digits into an int): a first byte past the end is unsatisfiable (416),
a last byte or suffix length past the end is clipped to the end. Only ASCII digits count.
"""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """A well-formed range that selects no byte of the resource (answer 416)."""


def _capped(digits: str, cap: int) -> int:
    """The number ``digits`` (ASCII, non-empty) if it is at most ``cap``, else ``cap + 1``."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(cap)):
        return cap + 1
    return min(int(digits), cap + 1)


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
        n = _capped(last, size)
        if n == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(0, size - n), size
    start = _capped(first, size)
    if last != "" and _compare(last, first) < 0:  # last < first: invalid, ignore (RFC 9110 14.1.1)
        return None
    if start >= size:
        raise Unsatisfiable(header)
    end = size if last == "" else min(_capped(last, size) + 1, size)
    return start, end


def _compare(a: str, b: str) -> int:
    """Compare two non-negative decimal numbers given as ASCII digits (-1, 0 or 1), of any length."""
    a, b = a.lstrip("0"), b.lstrip("0")
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)
