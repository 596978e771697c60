"""The layer store, on each database (the embedded SQLite file, PostgreSQL): layers, versions, errors, pruning."""

from __future__ import annotations

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets import layers as _layers
from wf_widgets.errors import ValidationError


@pytest.fixture
def store(make_backend, database):
    return make_backend(database_url=database).layers


def test_a_replaced_layer_keeps_its_id_and_bumps_its_version(store):
    first = store.put(wf.Int(1).to_json(), {"scales": [[0, 1]]}, name="one")
    assert _layers.valid_layer_id(first["id"]) and first["version"] == 1
    again = store.put(wf.Int(2).to_json(), {"scales": [[0, 2]]}, name="two", layer_id=first["id"])
    assert (again["id"], again["version"], again["name"]) == (first["id"], 2, "two")
    assert again["graph"] == wf.Int(2).to_json() and again["options"] == {"scales": [[0, 2]]}
    assert again["created"] == first["created"] and store.version(first["id"]) == 2
    named = store.put(wf.Int(3).to_json(), {}, layer_id="c" * 32)  # a new layer under the id given
    assert named["version"] == 1 and store.get("c" * 32)["graph"] == wf.Int(3).to_json()
    store.delete(first["id"], "not an id")
    assert store.get(first["id"]) is None and store.version(first["id"]) is None
    assert store.get("c" * 32) is not None


def test_errors_come_in_order_after_the_last_seen_and_old_ones_are_trimmed(store, monkeypatch):
    monkeypatch.setattr(_layers, "MAX_ERRORS_PER_LAYER", 3)
    a = store.put(wf.Int(1).to_json(), {})["id"]
    b = store.put(wf.Int(1).to_json(), {})["id"]
    for i in range(5):
        store.record_error(a, 1, 3, i, 0, f"a{i}")
    store.record_error(b, 1, None, None, None, ValueError("secret detail"))
    rows = store.errors([a, b])
    assert [r["message"] for r in rows[:-1]] == ["a2", "a3", "a4"]  # the 3 newest of a
    assert rows[-1]["layer_id"] == b and "secret detail" not in rows[-1]["message"]  # an unexpected error's text
    assert [r["n"] for r in rows] == sorted(r["n"] for r in rows)
    assert [r["message"] for r in store.errors([a], after=rows[1]["n"])] == ["a4"]
    assert (rows[0]["z"], rows[0]["x"], rows[0]["y"]) == (3, 2, 0) and store.errors(["nope"]) == []


def test_old_layers_are_pruned_with_their_errors(store):
    old = store.put(wf.Int(1).to_json(), {})["id"]
    store.record_error(old, 1, 0, 0, 0, "boom")
    assert store.prune(keep_days=1) == 0
    assert store.prune(keep_days=-1) == 1
    assert store.get(old) is None and store.errors([old]) == []


def test_big_literals_are_blob_files_the_row_lists(store):
    big = wf.Array(np.arange(100_000, dtype="float64"))  # 800 kB: over the inline limit
    layer = store.put(big.to_json(), {})
    assert len(layer["blobs"]) == 1 and store.blob_refs() == set(layer["blobs"])
    assert store.get(layer["id"])["graph"] == big.to_json()
    store.settings.max_literal_bytes = 1000
    with pytest.raises(ValidationError):
        store.put(big.to_json(), {})
