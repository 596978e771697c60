"""Content-addressed graph nodes and their JSON form.

A :class:`Node` is an operation name, positional arguments and keyword arguments. Each
argument is another Node or a JSON literal. A node's id is the SHA-256 of its canonical
JSON with children replaced by their ids, so equal graphs have equal ids.

JSON form (what a job row stores, what the tile server renders)::

    {"kind": "Int", "root": "<id>",
     "nodes": {"<id>": {"op": "add", "args": [{"ref": "<id>"}, {"lit": 1}], "kwargs": {}}}}
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

from ..errors import ValidationError


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


class Node:
    """One operation in a graph. Immutable; hashed and compared by :attr:`id`."""

    __slots__ = ("op", "args", "kwargs", "_id", "_spec", "_order")

    @classmethod
    def _trusted(cls, op: str, args: tuple, kwargs: dict, spec: dict, node_id: str) -> "Node":
        """A node rebuilt from a stored graph whose id is already known (no rehashing)."""
        node = object.__new__(cls)
        node.op, node.args, node.kwargs, node._spec, node._id = op, args, kwargs, spec, node_id
        node._order = None
        return node

    def __init__(self, op: str, args: tuple = (), kwargs: dict | None = None):
        self.op = op
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        spec = {
            "op": op,
            "args": [_encode_arg(a) for a in self.args],
            "kwargs": {k: _encode_arg(v) for k, v in sorted(self.kwargs.items())},
        }
        self._spec = spec
        self._order: tuple[Node, ...] | None = None
        self._id = hashlib.sha256(_canonical(spec).encode()).hexdigest()[:32]

    @property
    def id(self) -> str:
        """Content hash: equal graphs have equal ids."""
        return self._id

    def children(self) -> Iterator["Node"]:
        for a in self.args:
            if isinstance(a, Node):
                yield a
        for v in self.kwargs.values():
            if isinstance(v, Node):
                yield v

    def walk(self) -> tuple["Node", ...]:
        """Every distinct node below and including this one, children before parents (cached)."""
        if self._order is None:
            self._order = self._walk()
        return self._order

    def _walk(self) -> tuple["Node", ...]:
        order: list[Node] = []
        seen: set[str] = set()
        stack: list[tuple[Node, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if node._id in seen:
                continue
            if expanded:
                seen.add(node._id)
                order.append(node)
                continue
            stack.append((node, True))
            for child in node.children():
                if child._id not in seen:
                    stack.append((child, False))
        return tuple(order)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"Node({self.op!r}, id={self._id[:8]})"


def _encode_arg(a: Any) -> dict:
    if isinstance(a, Node):
        return {"ref": a._id}
    return {"lit": a}


def to_json(node: Node, kind: str) -> dict:
    """The JSON-serialisable graph of ``node``, whose value has type name ``kind``."""
    return {"kind": kind, "root": node.id, "nodes": {n.id: n._spec for n in node.walk()}}


def from_json(graph: dict, verify: bool = True) -> Node:
    """Rebuild the root :class:`Node` of a graph made by :func:`to_json`.

    With ``verify`` (the default) every node is rehashed and must match its id; a worker
    reading a graph its own store wrote skips that.
    """
    try:
        nodes, root = graph["nodes"], graph["root"]
    except (KeyError, TypeError):
        raise ValidationError("A graph needs 'root' and 'nodes' keys", field="graph", value=graph) from None
    built: dict[str, Node] = {}

    def decode(arg: dict) -> Any:
        if "ref" in arg:
            return build(arg["ref"])
        return arg["lit"]

    def build(node_id: str) -> Node:
        node = built.get(node_id)
        if node is None:
            if node_id not in nodes:
                raise ValidationError(f"Graph refers to unknown node {node_id!r}", field="graph", value=node_id)
            spec = nodes[node_id]
            args = tuple(decode(a) for a in spec["args"])
            kwargs = {k: decode(v) for k, v in spec.get("kwargs", {}).items()}
            if not verify:
                node = built[node_id] = Node._trusted(spec["op"], args, kwargs, spec, node_id)
                return node
            node = Node(spec["op"], args, kwargs)
            if node.id != node_id:
                raise ValidationError(f"Graph node {node_id!r} does not match its content", field="graph", value=node_id)
            built[node_id] = node
        return node

    # Build children first, iteratively, so deep graphs don't hit the recursion limit.
    pending = [root]
    while pending:
        nid = pending[-1]
        if nid in built:
            pending.pop()
            continue
        spec = nodes.get(nid)
        missing = [a["ref"] for a in (spec or {}).get("args", []) + list((spec or {}).get("kwargs", {}).values())
                   if "ref" in a and a["ref"] not in built]
        if missing and spec is not None:
            pending.extend(missing)
            continue
        build(nid)
        pending.pop()
    return built[root]


def graph_id(graph: dict) -> str:
    """The content id of a graph's root (equal graphs, equal ids)."""
    return graph["root"]
