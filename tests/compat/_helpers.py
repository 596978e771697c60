"""Helpers of the ports of the original client's type tests."""

from __future__ import annotations

from typing import Any

import pytest

#: Why a test (or a case of one) of the original is not run; docs/compat.md lists each.
PYTHON2 = "deliberate difference: __div__/__rdiv__ are Python 2 names, not defined (docs/compat.md)"
FLOAT_INVERT = ("deliberate difference: ~Float raises TypeError while the graph is built (the original typed it Float, "
                "and computing it fails: Python has no ~ for floats) (docs/compat.md)")
INFERRED = ("deliberate difference: without type parameters the item types are inferred "
            "(wf.List([1, 2]) is a List[Int]) where the original refused (docs/compat.md)")
#: The last line of the repr of a catalog object not up-to-date (the original named "the Descartes Labs catalog").
NOT_UP_TO_DATE = "* Not up-to-date in the catalog. Call `.save()` to save or update this record."
NO_VECTORS = "FeatureCollection, Feature and GeometryCollection (vector types) are not part of wf_widgets"


def operator_test(obj: Any, values: list, operator: str, accepted_types: tuple, return_type: Any) -> None:
    """Call method ``operator`` of ``obj`` (the original's check, reimplemented).

    With no ``accepted_types`` it is called without arguments and must return a
    ``return_type``. Otherwise it is called with each of ``values``: one whose type is in
    ``accepted_types`` must give a ``return_type`` (or ``return_type[type(value)]`` for a
    dict, with an optional ``"default"``), any other must raise TypeError (or return
    NotImplemented).
    """
    method = getattr(obj, operator)
    if not accepted_types:
        result = method()
        assert isinstance(result, return_type), f"{type(obj).__name__}.{operator}() gave {result!r}"
        return
    for value in values:
        if type(value) in accepted_types:
            expected = return_type
            if isinstance(return_type, dict):
                expected = return_type.get(type(value), return_type.get("default"))
            result = method(value)
            assert isinstance(result, expected), f"{type(obj).__name__}.{operator}({value!r}) gave {result!r}"
        else:
            try:
                result = method(value)
            except TypeError:
                continue
            if result is not NotImplemented:
                pytest.fail(f"{type(obj).__name__}.{operator}({value!r}) should raise TypeError, gave {result!r}")
