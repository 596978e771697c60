import datetime as dt

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.engine.evaluate import evaluate
from wf_widgets.errors import GraphTypeError


def ev(value):
    return evaluate(value.node)


def test_int_plus_one_is_a_graph_not_two():
    two = wf.Int(1) + 1
    assert isinstance(two, wf.Int)
    assert two.node.op == "add"
    assert ev(two) == 2


@pytest.mark.parametrize("expr, expected, kind", [
    (lambda: wf.Int(7) + 2, 9, wf.Int),
    (lambda: wf.Int(7) - 2.5, 4.5, wf.Float),
    (lambda: wf.Int(7) * 3, 21, wf.Int),
    (lambda: wf.Int(7) / 2, 3.5, wf.Float),
    (lambda: wf.Int(7) // 2, 3, wf.Int),
    (lambda: wf.Float(7.5) // 2, 3.0, wf.Float),
    (lambda: wf.Int(7) % 3, 1, wf.Int),
    (lambda: wf.Int(2) ** 10, 1024, wf.Int),
    (lambda: 10 - wf.Int(3), 7, wf.Int),
    (lambda: 1 / wf.Float(4), 0.25, wf.Float),
    (lambda: 2 ** wf.Int(3), 8, wf.Int),
    (lambda: -wf.Int(3), -3, wf.Int),
    (lambda: +wf.Float(3), 3.0, wf.Float),
    (lambda: abs(wf.Float(-2.5)), 2.5, wf.Float),
    (lambda: wf.Int(3) < 4, True, wf.Bool),
    (lambda: wf.Int(3) >= 4, False, wf.Bool),
    (lambda: wf.Float(3) == 3, True, wf.Bool),
    (lambda: wf.Int(3) != 3, False, wf.Bool),
    (lambda: wf.Bool(True) & False, False, wf.Bool),
    (lambda: wf.Bool(True) | False, True, wf.Bool),
    (lambda: wf.Bool(True) ^ True, False, wf.Bool),
    (lambda: ~wf.Bool(True), False, wf.Bool),
    (lambda: wf.Int(6) & 3, 2, wf.Int),
    (lambda: ~wf.Int(0), -1, wf.Int),
    (lambda: wf.Str("ab") + "cd", "abcd", wf.Str),
    (lambda: wf.Str("ab") * 2, "abab", wf.Str),
    (lambda: wf.Str("a") < "b", True, wf.Bool),
    (lambda: wf.Str("héllo").length(), 5, wf.Int),
])
def test_operators(expr, expected, kind):
    value = expr()
    assert type(value) is kind
    result = ev(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("build, message", [
    (lambda: wf.Int(1) + "a", r"unsupported operand types for \+: wf.Int and wf.Str"),
    (lambda: "a" - wf.Int(1), r"unsupported operand types for -: wf.Str and wf.Int"),
    (lambda: wf.Int(1) + object(), r"unsupported operand types for \+: wf.Int and object"),
    (lambda: wf.Float(1.5) & True, r"unsupported operand types for &: wf.Float and wf.Bool"),
    (lambda: ~wf.Float(1.5), r"bad operand type for ~: wf.Float"),
    (lambda: -wf.Str("a"), r"bad operand type for unary -: wf.Str"),
    (lambda: wf.Str("a") < 1, r"unsupported operand types for <: wf.Str and wf.Int"),
    (lambda: wf.Int("1"), r"wf.Int needs an int, got str '1'"),
    (lambda: wf.Float("x"), r"wf.Float needs a number"),
])
def test_type_errors_raise_while_building(build, message):
    with pytest.raises(TypeError, match=message):
        build()
    with pytest.raises(GraphTypeError):
        build()


def test_truth_value_is_refused():
    with pytest.raises(TypeError, match="truth value of a lazy wf.Bool is unknown"):
        if wf.Int(1) < 2:
            pass


def test_casts_and_promotion():
    assert ev(wf.Float(wf.Int(3))) == 3.0
    assert ev(wf.Int(wf.Float(3.9))) == 3
    assert ev(wf.Bool(wf.Int(0))) is False
    assert ev(wf.Int(1) + np.int32(2)) == 3
    assert ev(wf.Float(float("nan")) != wf.Float(float("nan"))) is True
    assert ev(wf.Float(float("inf"))) == float("inf")


def test_datetime():
    d = wf.Datetime("2020-01-01")
    assert ev(d) == dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    assert ev(d.year) == 2020
    assert ev(wf.Datetime("2020-01-02") - d) == 86400.0
    assert ev(d + 60) == dt.datetime(2020, 1, 1, 0, 1, tzinfo=dt.timezone.utc)
    assert ev(d < dt.datetime(2021, 1, 1)) is True
    with pytest.raises(ValueError, match="Cannot parse 'soon' as a date"):
        wf.Datetime("soon")


def test_evaluation_errors_surface():
    with pytest.raises(ZeroDivisionError):
        ev(wf.Int(1) / 0)
