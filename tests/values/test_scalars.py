import datetime as dt

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.engine.evaluate import evaluate
from wf_widgets.errors import GraphTypeError, ValidationError


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


@pytest.mark.parametrize("expr, expected, kind", [
    (lambda: divmod(wf.Int(7), 2), (3, 1), wf.Tuple[wf.Int, wf.Int]),
    (lambda: divmod(7.5, wf.Int(2)), (3.0, 1.5), wf.Tuple[wf.Float, wf.Float]),
    (lambda: wf.Int(1) << 4, 16, wf.Int),
    (lambda: 256 >> wf.Int(4), 16, wf.Int),
    (lambda: wf.Int(6) & wf.Bool(True), 0, wf.Int),  # bitwise: 6 & 1
    (lambda: wf.Bool(True) & wf.Int(6), True, wf.Bool),  # logical, as the original
    (lambda: wf.Bool(False) | 0, False, wf.Bool),
    (lambda: wf.Bool(True) ^ wf.Int(2), False, wf.Bool),
    (lambda: wf.Int(wf.Str("12")) + 1, 13, wf.Int),
    (lambda: wf.Float(wf.Str("2.5")) * 2, 5.0, wf.Float),
    (lambda: wf.Int(np.int16(3)) + np.uint8(4), 7, wf.Int),
    (lambda: wf.Float(np.float32(0.5)) + 1, 1.5, wf.Float),
    (lambda: wf.Bool(np.bool_(True)) == True, True, wf.Bool),  # noqa: E712
    (lambda: wf.NoneType(None) == None, True, wf.Bool),  # noqa: E711
])
def test_operators_of_the_original(expr, expected, kind):
    value = expr()
    assert type(value) is kind
    result = ev(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("build, message", [
    (lambda: wf.Bool(True) + wf.Bool(True), r"unsupported operand types for \+: wf.Bool and wf.Bool"),
    (lambda: wf.Bool(True) < wf.Bool(False), r"unsupported operand types for <: wf.Bool and wf.Bool"),
    (lambda: wf.Float(1.5) << 1, r"unsupported operand types for <<: wf.Float and wf.Int"),
    (lambda: wf.Int(1.0), r"Cannot promote 1.0 to Int"),
    (lambda: wf.Int(np.float64(1)), r"\(numpy float64\) to Int"),
    (lambda: wf.Float(np.int32(1)), r"\(numpy int32\) to Float"),
    (lambda: wf.Int._promote(wf.Float(1.0)), r"You need to convert it explicitly, like `Int\(x\)`"),
    (lambda: wf.Number(1), r"Cannot instantiate a generic Number"),
    (lambda: wf.Str("a").center("x"), r"Argument 'width' to Str.center\(\): expected Int"),
    (lambda: wf.Str("a").split(sep=1), r"Argument 'sep' to Str.split\(\): expected Str or NoneType"),
    (lambda: wf.Str("a").strip("x", "y"), r"Str.strip\(\) takes at most 1 argument\(s\), got 2"),
])
def test_type_errors_of_the_original_typing(build, message):
    with pytest.raises(TypeError, match=message):
        build()


@pytest.mark.parametrize("template, message", [
    ("{0.__class__}", r"Format field \{0.__class__\} of '\{0.__class__\}' is not allowed"),
    ("{0[x]}", r"is not allowed: a field is empty, a position or a name"),
    ("{:{0.real}}", r"Format field \{0.real\} of '\{0.real\}' is not allowed"),
    ("{:>999999999}", r"asks for more than 100000 characters"),
    ("{", r"Bad format template"),
])
def test_format_templates_never_read_attributes(template, message):
    with pytest.raises(ValidationError, match=message):
        wf.Str(template).format(1)


def test_every_str_method_computes_as_pythons():
    text = "  Hello, wide\tWorld: 42 hello  \nsecond line"
    for name, (_, spec) in wf.values.scalars.STR_METHODS.items():
        args = {"width": 40, "fillchar": "*", "sub": "ll", "suffix": "line", "tabsize": 4, "strings": ["a", "b"],
                "chars": " \n", "sep": "o", "old": "l", "new": "L", "count": 2, "maxsplit": 1, "prefix": "  H"}
        given = [args[a] for a, _, _ in spec]
        want = getattr(text, name)(*given)
        got = ev(getattr(wf.Str(text), name)(*given))
        assert got == (list(want) if isinstance(want, list) else want), name


def test_str_indexing_format_and_friends():
    s = wf.Str("hello world")
    assert ev(s[1]) == "e" and ev(s[-1]) == "d" and ev(s[::2]) == "hlowrd" and ev(s[wf.Slice(0, 5)]) == "hello"
    assert ev(reversed(s)) == "dlrow olleh"
    assert ev(s.contains("lo w")) is True and ev(s.split()) == ["hello", "world"]
    assert ev(s.partition(" ")) == ("hello", " ", "world")
    assert ev(wf.Str("{0} {x:>5} {0}!").format(wf.Int(1) + 1, x=s.upper()[:3])) == "2   HEL 2!"
    template = wf.parameter("t", wf.Str)
    value = template.format(1)
    with pytest.raises(ValidationError, match="Format field \\{0.real\\} of '\\{0.real\\}' is not allowed"):
        ev(wf.values.base.bind(value, {"t": "{0.real}"}))
    assert ev(wf.values.base.bind(value, {"t": "<{}>"})) == "<1>"
