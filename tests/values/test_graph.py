import json

import numpy as np

import wf_widgets as wf
from wf_widgets.engine.evaluate import evaluate
from wf_widgets.values import Value


def test_equal_graphs_have_equal_ids():
    a = wf.Int(1) + wf.Float(2.5) * 3
    b = wf.Int(1) + wf.Float(2.5) * 3
    assert a.id == b.id
    assert a.id != (wf.Int(1) + wf.Float(2.5) * 4).id


def test_json_round_trip_preserves_type_id_and_result():
    values = [
        wf.Int(1) + 1,
        wf.List([1, "a", wf.Float(2) / 3]),
        wf.Dict({"k": wf.Array(np.arange(4))}),
        wf.Datetime("2020-01-01") + 5,
        wf.Float(float("nan")),
    ]
    for v in values:
        data = json.loads(json.dumps(v.to_json()))
        back = Value.from_json(data)
        assert type(back) is type(v)
        assert back.id == v.id
        r1, r2 = evaluate(v.node), evaluate(back.node)
        if isinstance(r1, float) and r1 != r1:
            assert r2 != r2
        else:
            assert repr(r1) == repr(r2)


def test_shared_subgraphs_are_stored_once():
    x = wf.Int(5) * 2
    y = x + x + x
    g = y.to_json()
    assert len(g["nodes"]) == 5  # lit 5, lit 2, mul, add, add
    assert evaluate(y.node) == 30


def test_deep_graph_round_trip():
    v = wf.Int(0)
    for _ in range(3000):
        v = v + 1
    assert Value.from_json(v.to_json()).id == v.id
    assert evaluate(v.node) == 3000


# -- loading checks every graph -------------------------------------------------------------------
import pytest  # noqa: E402

from wf_widgets.errors import ValidationError  # noqa: E402
from wf_widgets.values import Node, from_json, to_json  # noqa: E402
from wf_widgets.values import graph as graph_mod  # noqa: E402


def one_node(op, args=(), kwargs=None, node_id="n"):
    """A graph of one node given in JSON form (``verify=False`` loads it under any id)."""
    spec = {"op": op, "args": list(args)}
    if kwargs is not None:
        spec["kwargs"] = kwargs
    return {"kind": "Any", "root": node_id, "nodes": {node_id: spec}}


@pytest.mark.parametrize("graph, match", [
    (one_node("getattr", [{"lit": 1}]), r"Unknown operation 'getattr' for 'graph.op'; allowed: 'abs', 'add'"),
    (one_node("add", [{"lit": 1}]), r"Operation 'add' takes 2 positional argument\(s\), got 1"),
    (one_node("list", []), None),
    (one_node("mosaic", [{"lit": 1}, {"lit": True}, {"lit": False}]),
     r"Operation 'mosaic' takes 1 to 2 positional argument\(s\), got 3"),
    (one_node("add", [{"lit": 1}, {"lit": 2}], {"third": {"lit": 3}}),
     r"Unknown keyword argument 'third' for 'add.kwargs'; allowed: $"),
    (one_node("mosaic", [{"lit": 1}], {"reversed": {"lit": True}}),
     r"Unknown keyword argument 'reversed' for 'mosaic.kwargs'; allowed: 'reverse'"),
    (one_node("datetime_part", [{"lit": "2020-01-01"}, {"lit": "tzinfo"}]),
     r"Unknown value 'tzinfo' for 'datetime_part.name'; allowed: 'year', 'month', 'day', 'hour', 'minute', 'second'"),
    (one_node("array_reduce", [{"lit": "/tmp/x"}, {"lit": "savez"}, {"lit": None}]),
     r"Unknown value 'savez' for 'array_reduce.name'; allowed: 'sum', 'mean', 'min', 'max', 'std', 'median'"),
    (one_node("image_math", [{"lit": 1}, {"lit": "fromfile"}]), r"Unknown value 'fromfile' for 'image_math.name'"),
    (one_node("reduce", [{"lit": 1}, {"lit": "save"}, {"lit": None}]), r"Unknown value 'save' for 'reduce.name'"),
    (one_node("ic_from_id", [{"lit": "p"}, {"lit": None}, {"lit": None}, {"lit": None}, {"lit": "nearest"}]),
     r"Unknown value 'nearest' for 'ic_from_id.resampler'; allowed: 'near', 'bilinear'"),
    (one_node("ic_from_id", [{"lit": "p"}, {"lit": "yesterday"}, {"lit": None}, {"lit": None}, {"lit": "near"}]),
     r"'ic_from_id.start' is not an ISO 8601 date: 'yesterday'"),
    (one_node("datetime_part", [{"lit": "2020-01-01"}, {"lit": 3}]), r"'datetime_part.name' must be str, got int 3"),
    (one_node("array", [{"lit": "|O"}, {"lit": [1]}, {"lit": ""}]), r"Unknown value '\|O' for 'array.dtype'"),
    (one_node("array", [{"lit": "<f8"}, {"lit": [-1]}, {"lit": ""}]), r"'array.shape' must be a list of at most 32"),
    (one_node("dict", [{"lit": ["a", "b"]}, {"lit": 1}]), r"'dict' got 2 key\(s\) for 1 value\(s\)"),
    (one_node("mask", [{"lit": 1}, {"lit": 2}, {"lit": "yes"}]), r"'mask.replace' must be bool, got str 'yes'"),
    (one_node("add", [{"ref": "gone"}, {"lit": 1}]), r"Graph node 'n' refers to unknown node 'gone'"),
    (one_node("add", [{"lit": 1, "ref": "n"}, {"lit": 1}]), r"neither \{'ref': id\} nor \{'lit': value\}"),
    (one_node("add", [{"lit": 1}, {"lit": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]),
     r"Literal of 'add.right' is nested more than 32 deep"),
    (one_node("lit", [{"lit": 10 ** 3000}]), r"Integer literal of 'lit.value' is too large"),
    ({"kind": "Int", "root": "n", "nodes": {"n": {"op": "lit", "args": [{"lit": 1}], "extra": 1}}},
     r"Graph node 'n' has unknown key\(s\) 'extra'"),
    ({"root": "n", "nodes": {}}, r"Graph refers to unknown node 'n'"),
    ({"root": 1, "nodes": {}}, r"A graph needs 'root' \(a node id\) and 'nodes'"),
    ({"kind": ["Int"], "root": "n", "nodes": {}}, r"A graph's 'kind' must be a str, got list"),
    ({"root": "n", "nodes": {}, "code": "x"}, r"A graph has unknown key\(s\) 'code'"),
    ([1, 2], r"A graph is a JSON object with 'root' and 'nodes', got list"),
    (b"\xff\xfe{", r"The graph is not valid JSON"),
    ("[" * 100_000, r"The graph is not valid JSON"),
])
@pytest.mark.parametrize("verify", [False, True])
def test_loading_refuses_bad_graphs_naming_what_is_wrong(graph, match, verify):
    if match is None:  # a valid one among them: list() of nothing
        assert from_json(graph, verify=False).op == "list"
        return
    with pytest.raises(ValidationError, match=match):
        from_json(graph, verify=verify)


def test_a_literal_where_a_literal_is_expected():
    name = Node("str", (Node("lit", ("year",)),))
    part = Node("datetime_part", (Node("datetime", ("2020-01-01T00:00:00",)), "year"))
    bad = to_json(part, "Int")  # then a ref where the name's literal was, as a crafted row would hold
    bad["nodes"].update(to_json(name, "Str")["nodes"])
    bad["nodes"][part.id]["args"][1] = {"ref": name.id}
    with pytest.raises(ValidationError, match=r"'datetime_part.name' must be a literal, not the result of operation "
                                              r"'str'") as info:
        from_json(bad)
    assert info.value.field == "datetime_part.name"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("nodes", [
    {"a": {"op": "neg", "args": [{"ref": "a"}]}},
    {"a": {"op": "neg", "args": [{"ref": "b"}]}, "b": {"op": "add", "args": [{"lit": 1}, {"ref": "a"}]}},
])
def test_cycles_are_refused(nodes):
    with pytest.raises(ValidationError, match=r"The graph has a cycle through node 'a'"):
        from_json({"root": "a", "nodes": nodes}, verify=False)


def test_a_node_shared_by_two_parents_is_no_cycle():
    x = wf.Int(5) * 2
    v = (x + 1) * (x - 1)
    assert evaluate(Value.from_json(json.dumps(v.to_json())).node) == 99


def test_size_bound_on_nodes():
    nodes = {f"n{i}": {"op": "lit", "args": [{"lit": i}]} for i in range(graph_mod.MAX_NODES + 1)}
    with pytest.raises(ValidationError, match=r"The graph has 100,001 nodes, more than 100,000"):
        from_json({"root": "n0", "nodes": nodes}, verify=False)


def test_graphs_of_every_value_kind_load_and_text_too():
    values = [wf.Int(1) + 1, wf.Datetime("2020-05-06").month, wf.Array(np.arange(6).reshape(2, 3)).sum(axis=0),
              wf.Dict({"a": 1, "b": [1.5, None]})["b"], wf.Str("ab") * 2]
    for v in values:
        text = json.dumps(v.to_json())
        for data in (json.loads(text), text, text.encode()):
            assert Value.from_json(data).id == v.id
        assert from_json(json.loads(text), verify=False).id == v.id


def test_graphs_built_in_python_are_checked_by_validate():
    graph_mod.validate((wf.Int(1) + 1).node)
    with pytest.raises(ValidationError, match=r"Unknown value 'tzinfo' for 'datetime_part.name'"):
        graph_mod.validate(Node("datetime_part", (wf.Datetime("2020-01-01").node, "tzinfo")))
    with pytest.raises(ValidationError, match=r"Literal object of 'lit.value' has a key of type int"):
        graph_mod.validate(Node("lit", ({1: "a"},)))


def test_every_signature_is_declared_once_the_package_is_imported():
    """The engine declares the signatures; importing any part of the package loads it (a fresh process)."""
    import subprocess
    import sys

    graph = json.dumps((wf.Int(1) + 1).to_json())
    code = ("import sys, json\nfrom wf_widgets.values.graph import from_json, SIGNATURES\n"
            "print(from_json(json.loads(sys.argv[1])).op, 'datetime_part' in SIGNATURES)")
    out = subprocess.run([sys.executable, "-c", code, graph], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["add", "True"]


def test_a_node_that_does_not_fit_its_op_is_refused_when_it_is_built():
    name = Node("str", (Node("lit", ("year",)),))
    with pytest.raises(ValidationError, match=r"'datetime_part.name' must be a literal, not the result of operation "
                                              r"'str'"):
        Node("datetime_part", (Node("datetime", ("2020-01-01T00:00:00",)), name))
    with pytest.raises(ValidationError, match=r"Unknown operation 'getattr' for 'graph.op'"):
        Node("getattr", ("x",))
