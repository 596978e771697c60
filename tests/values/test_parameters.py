"""Parameters (``wf.parameter``) and ``compute(**arguments)``: names are checked, arguments bound at launch."""

from __future__ import annotations

import pytest

import wf_widgets as wf
from wf_widgets.engine.evaluate import evaluate
from wf_widgets.errors import GraphTypeError, ValidationError, ValidationTypeError
from wf_widgets.jobs.compute import launch
from wf_widgets.values import Value
from wf_widgets.values.base import type_from_name
from wf_widgets.values.graph import from_json


def test_compute_binds_the_arguments(backend):
    x = wf.parameter("x", wf.Int)
    scale = wf.parameter("scale", wf.Float)
    value = (x + 1) * scale
    assert value.params == (x, scale)
    assert value.compute(x=41, scale=0.5) == 21.0
    assert value.compute(x=wf.Int(1) + 1, scale=wf.Float(2.0)) == 6.0
    assert wf.compute(value, x=1, scale=2.0) == 4.0
    assert wf.compute(wf.Tuple[wf.Int, wf.Int]((x, x)), x=3) == (3, 3)


def test_the_job_row_holds_the_bound_graph(backend):
    x = wf.parameter("x", wf.Int)
    job = (x * 2).compute(block=False, x=21)
    assert job.result(timeout=60) == 42
    graph = backend.jobs.get(job.id)["graph"]
    ops = {n["op"] for n in graph["nodes"].values()}
    assert "parameter" not in ops and {"lit": 21} in [a for n in graph["nodes"].values() for a in n["args"]]
    assert evaluate(from_json(graph)) == 42  # the row alone computes it: no argument lives elsewhere


@pytest.mark.parametrize("call, match", [
    (lambda v: v.compute(destinaton="email", x=1),
     r"compute\(\) got unexpected keyword argument\(s\) 'destinaton': the graph's parameters are 'x'"),
    (lambda v: v.compute(y=1, x=1), r"unexpected keyword argument\(s\) 'y'"),
    (lambda v: v.compute(), r"compute\(\) is missing a value for the graph's parameter\(s\) 'x': pass x=\.\.\."),
    (lambda v: wf.compute(v, destinaton="email"), r"compute\(\) got unexpected keyword argument\(s\) 'destinaton'"),
    (lambda v: launch(v), r"depends on parameter\(s\) 'x' without a value: pass them when computing"),
    (lambda v: (wf.Int(1) + 1).compute(destinaton="email"),
     r"got unexpected keyword argument\(s\) 'destinaton': the graph has no parameters"),
])
def test_wrong_keywords_are_type_errors_and_no_job_is_made(backend, call, match):
    value = wf.parameter("x", wf.Int) + 1
    with pytest.raises(TypeError, match=match) as info:
        call(value)
    assert isinstance(info.value, ValidationTypeError)
    assert backend.jobs.list() == []


def test_arguments_are_checked_against_the_parameter_type(backend):
    x = wf.parameter("x", wf.Int)
    with pytest.raises(GraphTypeError, match="The argument for parameter 'x' must be a Int: Cannot promote 2.5"):
        (x + 1).compute(x=2.5)
    y = wf.parameter("y", wf.Int)
    with pytest.raises(GraphTypeError, match="depends on parameters itself"):
        (x + 1).compute(x=y)
    assert backend.jobs.list() == []


@pytest.mark.parametrize("name, type_, match", [
    ("format", wf.Int, "isn't one of compute\\(\\)'s keywords"),
    ("_x", wf.Int, "doesn't start with '_'"),
    ("1x", wf.Int, "must be a Python identifier"),
    ("x", wf.List, "Parameter type cannot be generic"),
    ("x", int, "must be a wf value type"),
])
def test_parameter_names_and_types(name, type_, match):
    with pytest.raises(ValidationError, match=match):
        wf.parameter(name, type_)


def test_two_parameters_of_one_name_are_refused(backend):
    value = wf.parameter("x", wf.Int) + wf.Float(wf.parameter("x", wf.Str))
    with pytest.raises(ValueError, match="two different parameters named 'x' \\(Int and Str\\)"):
        value.compute(x=1)


def test_a_graph_loaded_from_json_keeps_its_parameters(backend):
    lst = wf.parameter("items", wf.List[wf.Tuple[wf.Str, wf.Int]])
    value = lst.map(lambda t: t[1] * 2)
    back = Value.from_json(value.to_json())
    assert type(back) is wf.List[wf.Int]
    assert [p._name for p in back.params] == ["items"] and type(back.params[0]) is wf.List[wf.Tuple[wf.Str, wf.Int]]
    assert back.compute(items=[("a", 1), ("b", 2)]) == [2, 4]


@pytest.mark.parametrize("name", ["os.system", "__import__", "Int]", "List[Int", "List[[Int]]", "Struct[{1: Int}]",
                                  "Dict[Str]", "Int[Str]", "x" * 3000])
def test_type_names_are_parsed_against_an_allow_list(name):
    with pytest.raises(ValidationError):
        type_from_name(name)
    graph = {"kind": "Int", "root": "p", "nodes": {"p": {"op": "parameter", "args": [{"lit": "x"}, {"lit": name}]}}}
    with pytest.raises(ValidationError):
        from_json(graph, verify=False)


def test_type_names_round_trip():
    for cls in (wf.Int, wf.List[wf.Tuple[wf.Str, wf.Int]], wf.Dict[wf.Int, wf.List[wf.Float]], wf.Tuple[()],
                wf.Struct[{"a": wf.Int, "b": wf.List[wf.Str]}], wf.KnownDict[{"x": wf.Float}, wf.Str, wf.Any],
                wf.ImageCollection, wf.Any):
        assert type_from_name(cls.__name__) is cls
