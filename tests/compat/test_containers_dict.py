"""Port of the original client's ``workflows/types/containers/tests/test_dict.py`` (expected values unchanged).

Adapted: where the original evaluated a graph with its own interpreter
(``interpreter.interpret(dct.graft, builtins=...)()``), the value is computed with
``compute()``; the checks of the RPC message the original built (``client.apply_graft``
mocked: function name and arguments) and ``client.is_delayed`` are graft internals and left
out; ``dc2.graft == dct1.graft`` compares our graphs (``to_json()``). See docs/compat.md.
"""

import pytest

from wf_widgets import Bool, Dict, Float, Int, List, Str, Tuple, parameter
from wf_widgets.errors import GraphTypeError as ProxyTypeError


def test_init_unparameterized():
    with pytest.raises(TypeError, match="Cannot instantiate a generic Dict"):
        Dict({1: 2})


def test_init_fromdict(backend):
    dct = Dict[Int, Float]({1: 1.1, 2: 2.2})

    assert dct.params == ()
    assert dct.compute() == {1: 1.1, 2: 2.2}


def test_init_fromkwargs(backend):
    dct = Dict[Str, Int](a=1, b=2, c=3)

    assert dct.params == ()
    assert dct.compute() == dict(a=1, b=2, c=3)


def test_init_fromdict_andkwargs(backend):
    dct = Dict[Str, Int]({"a": 0, "z": 100}, a=1, b=2, c=3)

    assert dct.params == ()

    assert dct.compute() == {"a": 1, "z": 100, "b": 2, "c": 3}


def test_init_merge_params():
    x = parameter("x", Float)
    y = parameter("y", Float)

    dct = Dict[Int, Float]({1: x, 2: 9999.9, 3: y, 4: x})
    assert dct.params == (x, y)

    dct2 = Dict[Str, Float]({"a": x, "b": 9999.9, "c": y, "d": x})
    assert dct2.params == (x, y)


def test_init_fromproxydict():
    dct1 = Dict[Str, Int](a=1, b=2)
    dc2 = Dict[Str, Int](dct1)
    assert dc2.to_json() == dct1.to_json()
    assert dc2.params is dct1.params


def test_init_fromproxydict_wrongtype():
    dct1 = Dict[Str, Int](a=1, b=2)
    with pytest.raises(
        ProxyTypeError,
        match=r"Cannot convert Dict\[Str, Int\] to Dict\[Int, Int\], their element types are different",
    ):
        Dict[Int, Int](dct1)


def test_init_wrongtype():
    with pytest.raises(ProxyTypeError, match="Expected a mapping"):
        Dict[Str, Int](1)
    with pytest.raises(ProxyTypeError, match="Expected a mapping"):
        Dict[Str, Int](Str("sdf"))


def test_validate_type_params():
    Dict[Str, Int]
    Dict[Str, List[Tuple[Str, Float]]]

    with pytest.raises(
        AssertionError, match="Both Dict key and value types must be specified"
    ):
        Dict[Str]
    with pytest.raises(TypeError, match="must be Proxytypes"):
        Dict[Str, 1]


def test_from_pairs():
    pairs = List[Tuple[Str, Int]]([("foo", 1), ("bar", 2)])
    dct = Dict[Str, Int].from_pairs(pairs)
    assert isinstance(dct, Dict)

    pairs = [("foo", 1), ("bar", 2)]
    dct = Dict[Str, Int].from_pairs(pairs)
    assert isinstance(dct, Dict)

    with pytest.raises(TypeError):
        # wrong Dict type
        Dict[Int, Int].from_pairs(pairs)


def test_getitem_type():
    dct = Dict[Str, Int](a=1, b=2)
    assert isinstance(dct["a"], Int)
    with pytest.raises(
        ProxyTypeError, match="Dict keys are of type .*Str.*, but indexed with 1"
    ):
        dct[1]


def test_getitem_roundtrip(backend):
    src = {"a": 1, "b": 2}
    dct = Dict[Str, Int](src)

    for key, truth in src.items():
        value = dct[key].compute()
        assert value == truth


def test_keys():
    dct = Dict[Str, Float](x=1.0, y=2.2)
    keys = dct.keys()
    assert isinstance(keys, List[Str])


def test_values():
    dct = Dict[Str, Float](x=1.0, y=2.2)
    values = dct.values()
    assert isinstance(values, List[Float])


def test_items():
    dct = Dict[Str, Float](x=1.0, y=2.2)
    items = dct.items()
    assert isinstance(items, List[Tuple[Str, Float]])


def test_contains():
    dct = Dict[Str, Float](x=1.0, y=2.2)
    assert isinstance(dct.contains("foo"), Bool)
    with pytest.raises(TypeError):
        dct.contains(1)


def test_length():
    dct = Dict[Str, Float](x=1.0, y=2.2)
    assert isinstance(dct.length(), Int)


def test_iter_error():
    dct = Dict[Str, Float](x=1.0, y=2.2)
    with pytest.raises(TypeError, match=r"Consider \.keys\(\)\.map\(\.\.\.\)"):
        iter(dct)
