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


def test_parametrised_types_check_items_and_type_indexing():
    lst = wf.List[wf.Float]([1, 2.5])
    assert type(lst) is wf.List[wf.Float] and ev(lst) == [1.0, 2.5]
    assert isinstance(lst[0], wf.Float) and isinstance(lst[wf.Int(0):], wf.List[wf.Float])
    assert type(wf.List([1, 2.5])) is wf.List[wf.Float]
    assert type(wf.List([(1, "a")])) is wf.List[wf.Tuple[wf.Int, wf.Str]]
    with pytest.raises(TypeError, match=r"List\[Float\]: Expected iterable values of type Float, but for item 0"):
        wf.List[wf.Float]([wf.Int(1)])
    tup = wf.Tuple[wf.Int, wf.Str]((1, "a"))
    assert ev(tup) == (1, "a") and isinstance(tup[-1], wf.Str) and isinstance(tup[wf.Int(1) - 1], wf.Any)
    assert ev(tup + (2.5,)) == (1, "a", 2.5) and type(tup + (2.5,)) is wf.Tuple[wf.Int, wf.Str, wf.Float]
    assert [type(x) for x in tup] == [wf.Int, wf.Str] and len(tup) == 2
    with pytest.raises(IndexError, match=r"Tuple index 2 out of range for Tuple\[Int, Str\] \(2 items\)"):
        tup[2]
    assert ev(wf.List[wf.Str]("abc")) == ["a", "b", "c"]  # as Python's list("abc")
    mixed = wf.List[wf.Any]([wf.Int(1), "a", wf.Float(2.5) * 2])
    assert ev(mixed) == [1, "a", 5.0] and type(wf.List([wf.Int(1), "a"])) is wf.List[wf.Any]
    assert type(wf.Dict({"a": wf.Int(1), "b": "x"})) is wf.Dict[wf.Str, wf.Any]


def test_list_operators_and_collection_methods():
    lst = wf.List[wf.Int]([3, 1, 2])
    assert ev(lst + [4]) == [3, 1, 2, 4] and ev([0] + lst) == [0, 3, 1, 2] and ev(2 * lst) == [3, 1, 2] * 2
    assert ev(lst < [3, 2]) is True and ev(lst == [3, 1, 2]) is True
    assert ev(lst.contains(2)) is True and ev(lst.length()) == 3 and ev(reversed(lst)) == [2, 1, 3]
    offset = wf.Int(10) + 0  # from outside the function: captured, computed once
    assert ev(lst.map(lambda x: x * 2 + offset)) == [16, 12, 14]
    assert ev(lst.map(lambda x: wf.Str("#") * x)) == ["###", "#", "##"]
    assert ev(lst.filter(lambda x: x > 1)) == [3, 2]
    assert ev(lst.reduce(lambda acc, x: acc + x)) == 6
    assert ev(lst.reduce(lambda acc, x: acc * x, wf.Float(0.5))) == 3.0
    assert ev(lst.sorted()) == [1, 2, 3] and ev(lst.sorted(reverse=True)) == [3, 2, 1]
    assert ev(lst.sorted(key=lambda x: -x)) == [3, 2, 1]
    nested = wf.List[wf.List[wf.Int]]([[1, 2], [3]])
    assert ev(nested.map(lambda inner: inner.map(lambda x: x + inner.length()))) == [[3, 4], [4]]
    with pytest.raises(TypeError, match="does not contain orderable items and cannot be sorted directly"):
        wf.List[wf.Bool]([True]).sorted()
    with pytest.raises(TypeError, match="The function given to filter must return a Bool"):
        lst.filter(lambda x: x + 1)


def test_functions_take_parameters_from_outside(backend):
    k = wf.parameter("k", wf.Int)
    lst = wf.List[wf.Int]([1, 2, 3]).map(lambda x: x * k)
    assert lst.params == (k,)
    assert lst.compute(k=10) == [10, 20, 30]


def test_dicts_of_any_key_type():
    d = wf.Dict[wf.Int, wf.Str]({1: "a", 2: "b"})
    assert ev(d) == {1: "a", 2: "b"} and isinstance(d[1], wf.Str) and ev(d[2]) == "b"
    assert ev(d.get(3, "z")) == "z" and ev(d.contains(1)) is True
    assert ev(d.items()) == [(1, "a"), (2, "b")] and type(d.items()) is wf.List[wf.Tuple[wf.Int, wf.Str]]
    pairs = wf.Dict[wf.Tuple[wf.Int, wf.Int], wf.Float].from_pairs([((1, 2), 0.5)])
    assert ev(pairs) == {(1, 2): 0.5} and ev(pairs[(1, 2)]) == 0.5
    assert type(wf.Dict({"a": 1, "b": 2.5})) is wf.Dict[wf.Str, wf.Float]
    with pytest.raises(TypeError, match="Expected Dict values of type Int, but got 'x'"):
        wf.Dict[wf.Str, wf.Int](a="x")


def test_compute_gives_the_python_type(backend):
    assert wf.Tuple[wf.Int, wf.Str]((1, "a")).compute() == (1, "a")
    assert wf.Dict[wf.Tuple[wf.Int, wf.Int], wf.Str]({(1, 2): "x"}).compute() == {(1, 2): "x"}
    assert wf.Dict[wf.Int, wf.Float]({1: 0.5}).compute(format="json") == b'[[1,0.5]]'  # the pairs on the wire
    s = wf.Struct[{"a": wf.Int, "b": wf.List[wf.Str]}](a=1, b=["x"])
    assert s.compute() == {"a": 1, "b": ["x"]} and ev(s.b[0]) == "x"


def test_range_zip_and_slices():
    assert ev(wf.range(3)) == [0, 1, 2] and ev(wf.range(1, 10, wf.Int(4))) == [1, 5, 9]
    zipped = wf.zip(wf.Str("ab"), wf.List[wf.Int]([1, 2, 3]))
    assert ev(zipped) == [("a", 1), ("b", 2)] and isinstance(zipped[0][1], wf.Int)
    assert ev(wf.List[wf.Int]([1, 2, 3, 4])[wf.Slice(1, None, 2)]) == [2, 4]
    with pytest.raises(ValueError, match="range\\(0, 100000000, 1\\) has 100,000,000 items, more than 10,000,000"):
        ev(wf.range(10 ** 8))
    with pytest.raises(ValueError, match="makes more than 10,000,000 items"):
        ev(wf.List[wf.Int]([1]) * 10 ** 8)
