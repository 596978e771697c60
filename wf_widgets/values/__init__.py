"""Lazy, JSON-serialisable graph values. Operators build graph nodes; nothing is computed here."""

from .array import Array
from .base import KINDS, TYPES, Any_, Generic, Value, parameter, promote
from .containers import (
    CollectionMixin,
    Dict,
    KnownDict,
    List,
    Slice,
    Struct,
    Tuple,
    check_valid_binop_for,
    range_,
    zip_,
)
from .graph import Node, from_json, to_json
from .scalars import Bool, Datetime, Float, Int, NoneType, Number, Primitive, Str

__all__ = [
    "Any_", "Array", "Bool", "CollectionMixin", "Datetime", "Dict", "Float", "Generic", "Int", "KINDS", "KnownDict",
    "List", "Node", "NoneType", "Number", "Primitive", "Slice", "Str", "Struct", "TYPES", "Tuple", "Value",
    "check_valid_binop_for", "from_json", "parameter", "promote", "range_", "to_json", "zip_",
]
