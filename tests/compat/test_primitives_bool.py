"""Port of the original client's ``workflows/types/primitives/tests/test_bool.py`` (expected values unchanged).

Adapted: ``b.graft[b.graft["returns"]]`` (the literal in the original's graph format) is read
as ``b.literal_value`` (the original's public name for it).
"""

import numpy as np
import pytest

from wf_widgets import Bool, Float, Int, Str

from ._helpers import operator_test

all_values_to_try = [Bool(False), Int(1), Str("True")]


def test_init():
    b1 = Bool(True)
    assert b1.literal_value is True
    b2 = Bool(False)
    assert b2.literal_value is False
    b3 = Bool(np.bool_(True))
    assert b3.literal_value is True
    b4 = Bool(np.bool_(False))
    assert b4.literal_value is False


@pytest.mark.parametrize(
    "operator, accepted_types, return_type",
    [
        ["__eq__", (Bool, Int, Float), Bool],
        ["__ne__", (Bool, Int, Float), Bool],
        ["__and__", (Bool, Int), Bool],
        ["__or__", (Bool, Int), Bool],
        ["__xor__", (Bool, Int), Bool],
        ["__rand__", (Bool, Int), Bool],
        ["__ror__", (Bool, Int), Bool],
        ["__rxor__", (Bool, Int), Bool],
    ],
)
def test_all_operators_int(operator, accepted_types, return_type):
    operator_test(Bool(True), all_values_to_try, operator, accepted_types, return_type)


def test_invert():
    assert isinstance(~Bool(True), Bool)


def test_helpful_error():
    b = Bool(True)

    with pytest.raises(TypeError, match="cannot be used in conditionals"):
        b and b
