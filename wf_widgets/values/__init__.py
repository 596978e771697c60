"""Lazy, JSON-serialisable graph values. Operators build graph nodes; nothing is computed here."""

from .array import Array
from .base import KINDS, Any_, Value, promote
from .containers import Dict, List
from .graph import Node, from_json, to_json
from .scalars import Bool, Datetime, Float, Int, NoneType, Number, Str

__all__ = [
    "Any_", "Array", "Bool", "Datetime", "Dict", "Float", "Int", "KINDS", "List", "Node", "NoneType",
    "Number", "Str", "Value", "from_json", "promote", "to_json",
]
