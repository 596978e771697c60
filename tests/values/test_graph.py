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
