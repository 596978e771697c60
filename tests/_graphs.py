"""Crafted graphs: raw JSON as a tampered row or request holds it, built without Node (which refuses them)."""

from __future__ import annotations

import hashlib
import json


def raw(nodes: dict, op: str, *args) -> dict:
    """Add a node to a raw graph, unchecked; returns its ref.

    Its id is its content hash, as the package computes it, so the graph passes the id check
    and meets the checks of what it holds.
    """
    spec = {"op": op, "args": [a if isinstance(a, dict) else {"lit": a} for a in args], "kwargs": {}}
    node_id = hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]
    nodes[node_id] = spec
    return {"ref": node_id}


def attribute_chain(nodes: dict, ref: dict, *names: str) -> dict:
    """``datetime_part`` nodes naming attributes, one after the other (what an attacker would write)."""
    for name in names:
        ref = raw(nodes, "datetime_part", ref, name)
    return ref


def raw_graph(nodes: dict, root: dict, kind: str) -> dict:
    """The graph as a job row or a request holds it: plain JSON."""
    return json.loads(json.dumps({"kind": kind, "root": root["ref"], "nodes": nodes}))


def source(nodes: dict, product_id: str = "org:p") -> dict:
    """An ImageCollection of ``product_id``: where the attribute walks start."""
    return raw(nodes, "ic_from_id", product_id, None, None, None, "near")
