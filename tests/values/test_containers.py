import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.engine.evaluate import evaluate


def ev(value):
    return evaluate(value.node)


def test_list_indexing_and_types():
    lst = wf.List([1, 2, 3])
    assert isinstance(lst[0], wf.Int)
    assert ev(lst[-1] + 10) == 13
    assert ev(lst.length()) == 3
    assert ev(lst[1:]) == [2, 3]
    assert ev(lst + [4]) == [1, 2, 3, 4]
    mixed = wf.List([1, "a"])
    assert isinstance(mixed[1], wf.Any_)
    assert ev(mixed[1] + "b") == "ab"


def test_list_errors():
    with pytest.raises(TypeError, match="List indices must be Int, not str"):
        wf.List([1])["a"]
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(wf.List([1]))
    with pytest.raises(IndexError, match="Index 5 out of range for a List of length 1"):
        ev(wf.List([1])[5])


def test_dict():
    d = wf.Dict({"a": 1, "b": 2})
    assert isinstance(d["a"], wf.Int)
    assert ev(d["a"] + d["b"]) == 3
    assert ev(d.length()) == 2
    assert ev(d.keys()) == ["a", "b"]
    assert ev(d.values()) == [1, 2]
    assert ev(wf.Dict({"x": [1, {"y": True}]})) == {"x": [1, {"y": True}]}
    with pytest.raises(TypeError, match="wf.Dict keys must be str, got int 1"):
        wf.Dict({1: 2})
    with pytest.raises(KeyError, match="Key 'z' not in Dict; keys: 'a', 'b'"):
        ev(d["z"])


def test_array():
    a = wf.Array(np.arange(6, dtype="float32").reshape(2, 3))
    out = ev(a * 2 + 1)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.arange(6).reshape(2, 3) * 2 + 1)
    np.testing.assert_array_equal(ev(a > 2), np.arange(6).reshape(2, 3) > 2)
    assert ev(a.sum()) == 15.0 and isinstance(ev(a.sum()), float)
    np.testing.assert_array_equal(ev(a.mean(axis=0)), [1.5, 2.5, 3.5])
    assert ev(a.length()) == 2
    with pytest.raises(TypeError, match="numeric or boolean data"):
        wf.Array(np.array(["a"]))
