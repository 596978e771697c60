"""Array: a lazy numpy array (computes to an ``np.ndarray``)."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from ..errors import GraphTypeError
from .base import ARITHMETIC, COMPARISON, LOGICAL, TYPES, Any_, Value, promote, register_promoter
from .graph import Node
from .scalars import Float, Int, Number

#: The reductions of an Array (the names ``array_reduce`` accepts).
AXIS_REDUCTIONS = ("sum", "mean", "min", "max", "std", "median")
#: The dtypes an Array is stored with (little-endian numpy dtype strings: ``"<f8"``, ``"|b1"``, ...).
DTYPES = tuple(dict.fromkeys(np.dtype(t).newbyteorder("<").str for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.longdouble)))


class Array(Value):
    """A lazy n-dimensional numeric array.

    Operators work element-wise with numbers and other Arrays (numpy broadcasting);
    comparisons give boolean Arrays. Reductions (``sum``, ``mean``, ``min``, ``max``,
    ``std``, ``median``) give a Float without ``axis``, an Array with one.
    """

    kind = "Array"
    _rank = 60

    def __new__(cls, data: Any) -> "Array":
        if isinstance(data, Array):
            return data
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf":
            raise GraphTypeError(f"wf.Array needs numeric or boolean data, got dtype {arr.dtype}")
        arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        payload = base64.b64encode(arr.tobytes()).decode("ascii")
        return cls._from_node(Node("array", (arr.dtype.str, list(arr.shape), payload)))

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is None:
            return Array if op in ("neg", "pos", "abs", "invert") else None
        if issubclass(other, (Number, Array)) and op in ARITHMETIC | COMPARISON | LOGICAL:
            return Array
        return None

    def __getitem__(self, index: Any) -> Value:
        if isinstance(index, slice) or (isinstance(index, tuple) and any(isinstance(i, slice) for i in index)):
            raise GraphTypeError("Array slicing is not supported; index with Int")
        idx = promote(index)
        return Any_._from_node(Node("getitem", (self._node, idx._node)))

    def length(self) -> Int:
        """Length of the first axis."""
        return Int._from_node(Node("length", (self._node,)))

    def _reduce(self, name: str, axis: Any) -> Value:
        node = Node("array_reduce", (self._node, name, axis if axis is None or isinstance(axis, int) else list(axis)))
        return (Float if axis is None else Array)._from_node(node)


def _make_reduction(name: str):
    def reduction(self: Array, axis: int | tuple | None = None) -> Value:
        return self._reduce(name, axis)

    reduction.__name__ = name
    reduction.__doc__ = f"The {name} of the array, over ``axis`` (all axes by default)."
    return reduction


for _name in AXIS_REDUCTIONS:
    setattr(Array, _name, _make_reduction(_name))


@register_promoter
def _promote_array(obj: Any) -> Value | None:
    if isinstance(obj, np.ndarray):
        return Array(obj)
    return None


TYPES["Array"] = Array
