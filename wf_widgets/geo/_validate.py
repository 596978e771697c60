"""Argument checks shared by the geo classes; every error names the field and the bad value."""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..errors import ValidationError, ValidationTypeError


def number(value: Any, field: str) -> float:
    """A finite real number (bools and strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationTypeError(
            f"Invalid {field} {value!r}: expected a number, got {type(value).__name__}",
            field=field,
            value=value,
        )
    f = float(value)
    if not math.isfinite(f):
        raise ValidationError(f"Invalid {field} {value!r}: must be a finite number", field=field, value=value)
    return f


def integer(value: Any, field: str) -> int:
    """An integer (an integral float such as ``1024.0`` is accepted)."""
    if isinstance(value, bool):
        raise ValidationTypeError(f"Invalid {field} {value!r}: expected an integer", field=field, value=value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        return int(value)
    if isinstance(value, numbers.Real):
        raise ValidationError(f"Invalid {field} {value!r}: expected an integer", field=field, value=value)
    raise ValidationTypeError(
        f"Invalid {field} {value!r}: expected an integer, got {type(value).__name__}", field=field, value=value
    )


def in_range(value: Any, field: str, lo: float, hi: float) -> float:
    f = number(value, field)
    if not lo <= f <= hi:
        raise ValidationError(f"Invalid {field} {value!r}: must be between {lo:g} and {hi:g}", field=field, value=value)
    return f


def positive(value: Any, field: str) -> float:
    f = number(value, field)
    if f <= 0:
        raise ValidationError(f"Invalid {field} {value!r}: must be positive", field=field, value=value)
    return f


def positive_int(value: Any, field: str) -> int:
    i = integer(value, field)
    if i <= 0:
        raise ValidationError(f"Invalid {field} {value!r}: must be a positive integer", field=field, value=value)
    return i


def non_negative_int(value: Any, field: str) -> int:
    i = integer(value, field)
    if i < 0:
        raise ValidationError(f"Invalid {field} {value!r}: must be zero or a positive integer", field=field, value=value)
    return i
