"""Property-based: loading a graph turns any input into a valid graph or a ValidationError, nothing else."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wf_widgets as wf
from wf_widgets.errors import ValidationError
from wf_widgets.values import Node, Value, from_json
from wf_widgets.values.graph import SIGNATURES, check_call

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)
ids = st.sampled_from(["a", "b", "c", "d"]) | st.text(max_size=4)
ops = st.sampled_from(sorted(SIGNATURES)) | st.text(max_size=8) | json_values
args = st.one_of(
    st.fixed_dictionaries({"ref": ids}),
    st.fixed_dictionaries({"lit": json_values}),
    json_values,
)
node_specs = st.fixed_dictionaries(
    {"op": ops, "args": st.lists(args, max_size=6) | json_values},
    optional={"kwargs": st.dictionaries(st.text(max_size=8), args, max_size=3) | json_values, "x": json_values},
)
graphs = st.fixed_dictionaries(
    {"root": ids | json_values, "nodes": st.dictionaries(ids, node_specs | json_values, max_size=6) | json_values},
    optional={"kind": st.text(max_size=6) | json_values},
)


def load(data, verify):
    """The loaded root, or None after a ValidationError; any other exception fails the test."""
    try:
        node = from_json(data, verify=verify)
    except ValidationError as exc:
        assert str(exc) and exc.field is not None
        return None
    for n in node.walk():  # a loaded graph is a valid graph
        check_call(n.op, n.args, n.kwargs)
    return node


@SETTINGS
@given(json_values, st.booleans())
def test_any_json_value_loads_or_is_a_validation_error(data, verify):
    load(data, verify)


@SETTINGS
@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_load_or_are_a_validation_error(data, verify):
    load(data, verify)


@SETTINGS
@given(graphs, st.booleans())
def test_graph_shaped_input_loads_or_is_a_validation_error(graph, verify):
    node = load(graph, verify)
    if node is not None:
        assert load(json.dumps(graph), verify) is not None  # the same graph as JSON text


def _values():
    return [
        wf.Int(1) + 2,
        (wf.Datetime("2020-05-06") + 3600).hour,
        wf.List([1, "a", wf.Float(2) / 3])[1:],
        wf.Dict({"k": wf.Array(np.arange(4.0))})["k"],
        wf.Array(np.arange(6).reshape(2, 3)).mean(axis=0) > 1,
        wf.Str("x") * 3,
    ]


@SETTINGS
@given(st.sampled_from(range(6)), st.data())
def test_mutated_graphs_load_or_are_a_validation_error(index, data):
    """Real graphs with one part replaced by anything: never another exception."""
    graph = json.loads(json.dumps(_values()[index].to_json()))
    node_id = data.draw(st.sampled_from(sorted(graph["nodes"])))
    spec = graph["nodes"][node_id]
    where = data.draw(st.sampled_from(["op", "args", "arg", "kwargs", "root", "node"]))
    junk = data.draw(json_values | args | st.sampled_from(sorted(SIGNATURES)))
    if where == "arg" and spec["args"]:
        spec["args"][data.draw(st.integers(0, len(spec["args"]) - 1))] = junk
    elif where == "root":
        graph["root"] = junk
    elif where == "node":
        graph["nodes"][node_id] = junk
    else:
        spec[where] = junk
    for verify in (False, True):
        load(graph, verify)


@SETTINGS
@given(st.sampled_from(range(6)))
def test_valid_graphs_round_trip(index):
    value = _values()[index]
    text = json.dumps(value.to_json())
    assert Value.from_json(text).id == value.id
    assert from_json(json.loads(text), verify=False).id == value.id


def test_deep_chains_load_without_recursion():
    node = Node("lit", (0,))
    for _ in range(20_000):
        node = Node("neg", (node,))
    graph = json.loads(json.dumps({"root": node.id, "nodes": {n.id: n._spec for n in node.walk()}}))
    assert from_json(graph, verify=False).id == node.id
