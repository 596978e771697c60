"""Python functions as graph functions: what ``List.map``, ``filter``, ``reduce`` and ``sorted`` take.

The function is called once, while the graph is built, with placeholder values of its
argument types (``arg`` nodes); what it returns is the body of the graph function. The
parts of the body that don't depend on the arguments (values from outside the function,
parameters, literals) are *captured*: they become arguments of the node that uses the
function (``list_map(list, function, *captures)``), evaluated once, in the outer graph,
where the checks of a launch (imagery, parameters, memory) see them. What is left, the
part that depends on the arguments, is stored as a literal: a graph in the JSON form of
:mod:`wf_widgets.values.graph` whose ``capture`` nodes refer to those arguments::

    {"depth": 0, "args": 1, "graph": {"kind": "Int", "root": "<id>", "nodes": {...}}}

``depth`` tells nested functions apart (a function built inside another one's body has
depth 1, and its own ``arg`` nodes say so). Loading a graph checks the function literals
as any graph (:func:`check_function`), so they name only known operations.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Callable, Sequence

from ..errors import GraphTypeError, ValidationError
from .base import Value, promote
from .graph import Node, from_json, to_json

#: How many functions may nest (a function literal holds the next one's).
MAX_DEPTH = 3

_STATE = threading.local()


@dataclasses.dataclass(frozen=True)
class Function:
    """A traced Python function.

    Attributes
    ----------
    literal : dict
        The function as a literal (see the module docstring).
    captures : tuple of Node
        The nodes of the outer graph the body uses, in the order of its ``capture`` nodes.
    result : Value
        What the function returned for the placeholders: its type is the return type.
    """

    literal: dict
    captures: tuple[Node, ...]
    result: Value


def trace(fn: Callable[..., Any], arg_types: Sequence[type[Value]], what: str) -> Function:
    """Call ``fn`` with placeholders of ``arg_types`` and turn what it returns into a graph function.

    Raises
    ------
    GraphTypeError
        ``fn`` is not callable, or returns something that is not a wf value (or promotable to one).
    """
    if not callable(fn):
        raise GraphTypeError(f"{what} needs a function, got {type(fn).__name__} {fn!r}")
    depth = getattr(_STATE, "depth", 0)
    if depth >= MAX_DEPTH:
        raise GraphTypeError(f"Functions given to map, filter, reduce or sorted nest at most {MAX_DEPTH} deep")
    args = [t._from_node(Node("arg", (depth, i))) for i, t in enumerate(arg_types)]
    _STATE.depth = depth + 1
    try:
        result = fn(*args)
    finally:
        _STATE.depth = depth
    try:
        result = promote(result)
    except GraphTypeError:
        raise GraphTypeError(f"The function given to {what} returned {type(result).__name__} {result!r}, which is "
                             "not a wf value") from None
    body, captures = _close(result.node, depth)
    literal = {"depth": depth, "args": len(arg_types), "graph": to_json(body, result.kind)}
    return Function(literal, tuple(captures), result)


def _close(root: Node, depth: int) -> tuple[Node, list[Node]]:
    """The body of the function returning ``root``, and the outer nodes it captures."""
    order = root.walk()
    inner: dict[str, bool] = {}
    for node in order:
        inner[node.id] = (node.op == "arg" and node.args[0] == depth) or any(inner[c.id] for c in node.children())
    if not inner[root.id]:
        return Node("capture", (0,)), [root]
    captured: dict[str, int] = {}
    captures: list[Node] = []

    def capture(node: Node) -> Node:
        if node.id not in captured:
            captured[node.id] = len(captures)
            captures.append(node)
        return Node("capture", (captured[node.id],))

    rebuilt: dict[str, Node] = {}
    for node in order:
        if not inner[node.id]:
            continue
        if node.op == "arg":
            rebuilt[node.id] = node
            continue

        def sub(a: Any) -> Any:
            if not isinstance(a, Node):
                return a
            return rebuilt[a.id] if inner[a.id] else capture(a)

        rebuilt[node.id] = Node(node.op, tuple(sub(a) for a in node.args), {k: sub(v) for k, v in node.kwargs.items()})
    return rebuilt[root.id], captures


def check_function(value: Any, field: str) -> None:
    """A literal check: ``value`` is a function literal whose graph is valid and whose ``arg`` nodes are its own."""
    load_function(value, field)


def load_function(value: Any, field: str = "function") -> tuple[Node, int, int]:
    """``(body root, depth, number of arguments)`` of a function literal.

    Raises
    ------
    ValidationError
        Anything wrong with it.
    """
    if not isinstance(value, dict) or set(value) != {"depth", "args", "graph"}:
        raise ValidationError(f"{field!r} must be a function: an object with 'depth', 'args' and 'graph'",
                              field=field, value=sorted(value) if isinstance(value, dict) else type(value).__name__)
    depth, nargs = value["depth"], value["args"]
    for name, v, high in (("depth", depth, MAX_DEPTH - 1), ("args", nargs, 2)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= high:
            raise ValidationError(f"'{field}.{name}' must be an int from 0 to {high}, got {v!r}",
                                  field=f"{field}.{name}", value=v)
    root = from_json(value["graph"], verify=False)
    for node in root.walk():
        if node.op == "arg" and (node.args[0] != depth or node.args[1] >= nargs):
            raise ValidationError(f"{field!r} refers to argument {node.args[1]} at depth {node.args[0]}, but takes "
                                  f"{nargs} argument(s) at depth {depth}", field=field, value=list(node.args))
    return root, depth, nargs

