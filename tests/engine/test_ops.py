"""engine/ops.py: every op has a signature that fits its implementation; names go through allow-lists."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import wf_widgets
import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Clock, Settings
from wf_widgets.engine import raster
from wf_widgets.engine.evaluate import EvalContext, evaluate
from wf_widgets.engine.ops import ARRAY_REDUCERS, DATETIME_PART_FUNCTIONS, OPS
from wf_widgets.engine.reading import CatalogReader
from wf_widgets.errors import ValidationError
from wf_widgets.values import Node
from wf_widgets.values.array import AXIS_REDUCTIONS
from wf_widgets.values.graph import SIGNATURES
from wf_widgets.values.imagery_rules import MATH_FUNCS, REDUCTIONS
from wf_widgets.values.scalars import DATETIME_PARTS

PACKAGE = Path(wf_widgets.__file__).parent


def test_every_op_has_one_signature_that_fits_its_implementation():
    assert sorted(OPS) == sorted(SIGNATURES)
    for name, spec in OPS.items():
        sig = SIGNATURES[name]
        try:
            python = inspect.signature(spec.fn)
        except ValueError:  # a builtin (int, float, bool, str): one positional argument
            assert len(sig.params) == 1 and sig.varargs is None, name
            continue
        params = list(python.parameters.values())[1 if spec.context else 0:]
        required = [p for p in sig.params if p.required]
        python.bind(*([None] * (1 if spec.context else 0)), *[None] * len(required))  # fewest accepted
        python.bind(*([None] * (1 if spec.context else 0)), *[None] * len(sig.params), *(
            [None, None] if sig.varargs is not None else []))  # most accepted
        if sig.keywords:  # optional parameters by keyword: the names must be the implementation's
            names = [p.name for p in params]
            assert all(p.name in names for p in sig.params if not p.required), name


def test_allow_lists_are_what_the_values_expose():
    assert tuple(DATETIME_PART_FUNCTIONS) == DATETIME_PARTS
    assert all(isinstance(getattr(wf.Datetime, n), property) for n in DATETIME_PARTS)
    assert tuple(ARRAY_REDUCERS) == AXIS_REDUCTIONS
    assert all(callable(getattr(wf.Array, n)) for n in AXIS_REDUCTIONS)
    assert tuple(raster.MATH) == MATH_FUNCS
    assert sorted(raster.REDUCERS) == sorted(n for n in REDUCTIONS if n != "count")


def _getattr_with_computed_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_getattr_with_a_computed_name_in_the_engine_or_the_values():
    files = sorted((PACKAGE / "engine").glob("*.py")) + sorted((PACKAGE / "values").glob("*.py"))
    assert [hit for f in files for hit in _getattr_with_computed_names(f)] == []


@pytest.mark.parametrize("make, match", [
    (lambda d: Node("datetime_part", (Node("datetime", ("2020-01-01T00:00:00",)), "tzinfo")),
     r"Unknown value 'tzinfo' for 'datetime_part.name'; allowed: 'year'"),
    (lambda d: Node("datetime_part", (Node("lit", ("2020",)), "year")), r"datetime_part needs a Datetime, got str"),
    (lambda d: Node("array_reduce", (Node("lit", (str(d / "planted"),)), "savez", None)),
     r"Unknown value 'savez' for 'array_reduce.name'; allowed: 'sum'"),
    (lambda d: Node("array_reduce", (Node("lit", ("abc",)), "sum", None)),
     r"array_reduce needs a numeric Array, got str"),
    (lambda d: Node("array", ("|O", [1], "AA==")), r"Unknown value '\|O' for 'array.dtype'"),
])
def test_ops_check_names_when_evaluating_too(make, match, tmp_path):
    """A graph that skipped loading (built in Python) still can't name an attribute or a numpy function."""
    with pytest.raises(ValidationError, match=match):
        evaluate(make(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_allowed_names_still_work():
    d = Node("datetime", ("2020-05-06T07:08:09",))
    assert [evaluate(Node("datetime_part", (d, n))) for n in DATETIME_PARTS] == [2020, 5, 6, 7, 8, 9]
    arr = wf.Array(np.arange(6.0).reshape(2, 3))
    assert evaluate(arr.median(axis=1).node).tolist() == [1.0, 4.0]
    with pytest.raises(ValidationError, match=r"Unknown value 'fromfile' for 'image_math.name'"):
        raster.math(None, "fromfile")


def test_eval_context_holds_no_backend_and_no_settings(tmp_path):
    backend = Backend(Settings(home=tmp_path / "h", smtp_url="smtp://u:secret@127.0.0.1:25"), sweep=False)
    try:
        ctx = EvalContext.for_backend(backend, wf.DLTile.from_latlon(35.6870, -105.9378, 10, 16, 0))
        reader = ctx.catalog
        assert isinstance(reader, CatalogReader) and reader.store is backend.catalog
        assert isinstance(ctx.clock, Clock)
        assert not hasattr(ctx, "backend") and not hasattr(ctx, "settings") and not hasattr(ctx, "__dict__")
        for holder in (ctx, reader):
            slots = getattr(type(holder), "__slots__", ())
            attrs = [getattr(holder, s) for s in slots if hasattr(holder, s)] + list(getattr(holder, "__dict__", {})
                                                                                    .values())
            for value in attrs:
                assert not isinstance(value, (Backend, Settings)), (holder, value)
                assert "secret" not in repr(value)
        assert reader.identity.user == backend.settings.user
    finally:
        backend.close()


def test_str_methods_go_through_an_allow_list():
    from wf_widgets.engine.ops import STR_FUNCTIONS
    from wf_widgets.values.scalars import STR_METHODS

    assert tuple(STR_FUNCTIONS) == tuple(STR_METHODS)
    assert all(callable(getattr(wf.Str, n)) for n in STR_METHODS)


def _loads(nodes: dict, root: dict, kind: str = "Any"):
    from wf_widgets.values.graph import from_json

    from .._graphs import raw_graph

    return from_json(raw_graph(nodes, root, kind))


@pytest.mark.parametrize("build, match", [
    (lambda n, r: r(n, "str_method", r(n, "lit", "x"), "__class__"),
     r"Unknown value '__class__' for 'str_method.name'; allowed: 'capitalize'"),
    (lambda n, r: r(n, "attr", r(n, "lit", {"lit": {"a": 1}}), "__class__"),
     r"'attr.name' must be an identifier not starting"),
    (lambda n, r: r(n, "parameter", "x", "os.system"), r"Bad type name 'os.system'"),
    (lambda n, r: r(n, "parameter", "x", "Popen"), r"Unknown type name 'Popen' for 'type'"),
    (lambda n, r: r(n, "list_map", r(n, "lit", [1]), {"lit": {"depth": 0, "args": 1, "graph": {
        "root": "a", "nodes": {"a": {"op": "arg", "args": [{"lit": 0}, {"lit": 3}]}}}}}),
     r"refers to argument 3 at depth 0, but takes 1 argument"),
    (lambda n, r: r(n, "list_map", r(n, "lit", [1]), {"lit": {"depth": 0, "args": 1, "graph": {
        "root": "a", "nodes": {"a": {"op": "eval", "args": [{"lit": "1"}]}}}}}),
     r"Unknown operation 'eval' for 'graph.op'"),
    (lambda n, r: r(n, "str_format", r(n, "lit", "{}"), ["a.b"], r(n, "lit", 1)),
     r"'str_format.keys' must be a list of None \(positional\) or identifiers"),
])
def test_crafted_graphs_of_the_new_ops_are_refused_when_loaded(build, match):
    from .._graphs import raw

    nodes: dict = {}
    root = build(nodes, raw)
    with pytest.raises(ValidationError, match=match):
        _loads(nodes, root)


def test_a_function_literal_is_evaluated_with_its_captures():
    from .._graphs import raw

    nodes: dict = {}
    body = {"root": "m", "nodes": {
        "a": {"op": "arg", "args": [{"lit": 0}, {"lit": 0}]},
        "c": {"op": "capture", "args": [{"lit": 0}]},
        "m": {"op": "mul", "args": [{"ref": "a"}, {"ref": "c"}]}}}
    root = raw(nodes, "list_map", raw(nodes, "lit", [1, 2]), {"lit": {"depth": 0, "args": 1, "graph": body}},
               raw(nodes, "lit", 3))
    assert evaluate(_loads(nodes, root)) == [3, 6]
    nodes = {}
    root = raw(nodes, "list_map", raw(nodes, "lit", [1, 2]), {"lit": {"depth": 0, "args": 1, "graph": body}})
    with pytest.raises(ValidationError, match="A function refers to captured value 0, but has 0"):
        evaluate(_loads(nodes, root))
