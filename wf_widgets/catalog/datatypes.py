"""Pixel data types of catalog bands."""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from ..errors import ValidationError

_NUMPY = {
    "Byte": "uint8",
    "UInt16": "uint16",
    "Int16": "int16",
    "UInt32": "uint32",
    "Int32": "int32",
    "Float32": "float32",
    "Float64": "float64",
}


class DataType(str, enum.Enum):
    """A band's data type; its value is the GDAL name (``"Byte"``, ``"UInt16"``, ...).

    Examples
    --------
    >>> DataType("uint16") is DataType.UInt16
    True
    >>> DataType.Byte.range
    (0, 255)
    """

    Byte = "Byte"
    UInt16 = "UInt16"
    Int16 = "Int16"
    UInt32 = "UInt32"
    Int32 = "Int32"
    Float32 = "Float32"
    Float64 = "Float64"

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype."""
        return np.dtype(_NUMPY[self.value])

    @property
    def range(self) -> tuple[float, float]:
        """Smallest and largest value the type holds."""
        dtype = self.dtype
        if dtype.kind in "ui":
            return int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
        return float(np.finfo(dtype).min), float(np.finfo(dtype).max)

    def holds(self, value: float) -> bool:
        """Whether ``value`` is representable (in range; integral for integer types)."""
        lo, hi = self.range
        if self.dtype.kind in "ui":
            return float(value).is_integer() and lo <= value <= hi
        return bool(np.isnan(value)) or lo <= value <= hi or bool(np.isinf(value))

    @classmethod
    def _missing_(cls, value: Any) -> "DataType | None":
        if isinstance(value, str):
            for member in cls:
                if value.lower() in (member.value.lower(), _NUMPY[member.value]):
                    return member
        try:
            name = np.dtype(value).name
        except TypeError:
            return None
        for member in cls:
            if _NUMPY[member.value] == name:
                return member
        return None

    @classmethod
    def coerce(cls, value: Any, field: str = "data_type") -> "DataType":
        """A DataType from a DataType, a name (any case, GDAL or numpy) or a numpy dtype."""
        try:
            return cls(value)
        except (ValueError, TypeError):
            raise ValidationError.bad_value(field, value, [m.value for m in cls], what="data type") from None

    def __str__(self) -> str:
        return self.value
