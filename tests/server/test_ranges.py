"""parse_range: every header and size gives None, a valid span, or Unsatisfiable; numbers of any length."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wf_widgets.server.ranges import Unsatisfiable, parse_range

SIZES = st.integers(min_value=0, max_value=2**64)
DIGITS = st.text(alphabet="0123456789", max_size=6000)
BLANK = st.text(alphabet=" \t", max_size=2)
#: Headers close to a valid single range, numbers from empty to 6,000 digits.
NEAR_VALID = st.builds(lambda unit, a, b, w1, w2: f"{w1}{unit}{w2}={w1}{a}{w2}-{w1}{b}{w2}",
                       st.sampled_from(["bytes", "BYTES", "Bytes", "items"]), DIGITS, DIGITS, BLANK, BLANK)
HEADERS = st.one_of(st.none(), st.text(max_size=200), NEAR_VALID)

_SINGLE = re.compile(r"^[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*$", re.IGNORECASE)


def reference(header: str | None, size: int) -> tuple[int, int] | None:
    """RFC 9110 single-range semantics with unbounded ints (the limit lifted for this check only)."""
    match = _SINGLE.match(header) if header else None
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(0, size - n), size
    start = int(first)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable(header)
    return start, size if last == "" else min(int(last) + 1, size)


def _outcome(fn, header, size):
    try:
        return fn(header, size)
    except Unsatisfiable:
        return "416"


@settings(max_examples=400, deadline=None)
@given(header=HEADERS, size=SIZES)
@example(header="bytes=" + "9" * 4301 + "-", size=10)
@example(header="bytes=0-" + "9" * 4301, size=10)
@example(header="bytes=-" + "9" * 4301, size=10)
@example(header="bytes=" + "0" * 5000 + "3-" + "0" * 5000 + "4", size=10)
@example(header="bytes=\u0663-", size=10)  # an Arabic-Indic digit is not an HTTP digit
def test_parse_range_never_fails_otherwise(header, size):
    try:
        span = parse_range(header, size)
    except Unsatisfiable:
        return
    if span is not None:
        start, end = span
        assert isinstance(start, int) and isinstance(end, int)
        assert 0 <= start < end <= size


@settings(max_examples=200, deadline=None)
@given(header=NEAR_VALID, size=SIZES)
@example(header="bytes=" + "9" * 4301 + "-", size=10)
@example(header="bytes=5-" + "9" * 4400, size=10)
@example(header="bytes=" + "1" * 4400 + "-" + "1" * 4399, size=10)
def test_parse_range_agrees_with_unbounded_arithmetic(header, size):
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # the reference only; parse_range runs under the usual limit
    try:
        expected = _outcome(reference, header, size)
    finally:
        sys.set_int_max_str_digits(previous)
    assert _outcome(parse_range, header, size) == expected


def test_a_huge_first_byte_is_unsatisfiable():
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=" + "9" * 4301 + "-", 10)
    assert parse_range("bytes=2-" + "9" * 4301, 10) == (2, 10)
    assert parse_range("bytes=-" + "9" * 4301, 10) == (0, 10)
