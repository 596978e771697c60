"""catalog.store, on each database (the embedded SQLite file, PostgreSQL): finding images by place and date
through the indexes, and the schema versions."""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3

import pytest

from wf_widgets import _db, _sqlite
from wf_widgets.catalog.store import MIGRATIONS, CatalogStore
from wf_widgets.config import Settings
from wf_widgets.geo.bbox import WORLD, lonlat_boxes

UTC = _dt.timezone.utc
PRODUCT = "org:places"
#: 10 km of 10 m pixels in UTM zone 13 (around 35.9 N, 106.1 W), and the same moved 300 km east.
HERE = ("EPSG:32613", [400000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0], 1000, 1000)
THERE = ("EPSG:32613", [700000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0], 1000, 1000)


def _when(day: int, hour: int = 0) -> _dt.datetime:
    return _dt.datetime(2020, 1, day, hour, tzinfo=UTC)


def _row(name: str, place=HERE, acquired=None, **kw) -> dict:
    crs, geotrans, width, height = place if place is not None else (None, None, None, None)
    return {"id": f"{PRODUCT}:{name}", "product_id": PRODUCT, "name": name, "acquired": acquired, "cs_code": crs,
            "geotrans": geotrans, "x_pixels": width, "y_pixels": height,
            "files": [{"href": f"files/x/{name}.tif", "size": 1}], **kw}


def _boxes(place) -> list:
    crs, geotrans, width, height = place
    return lonlat_boxes(crs, geotrans, width, height)


def _names(rows) -> list[str]:
    return [r["name"] for r in rows]


def _tree_in_step(store: CatalogStore) -> None:
    """The R*Tree holds exactly the boxes of the image rows that have one (SQLite's; PostgreSQL's index is the
    table's own, with nothing to keep in step)."""
    if store.db.dialect.name != "sqlite":
        return
    conn = store.db.conn()
    tree = sorted(tuple(r) for r in conn.execute("SELECT id, west, east, south, north FROM images_rtree"))
    rows = conn.execute("SELECT rowid, west, east, south, north FROM images WHERE west IS NOT NULL").fetchall()
    assert [t[0] for t in tree] == sorted(r[0] for r in rows)
    for (rowid, *box), (_, *stored) in zip(tree, sorted(tuple(r) for r in rows)):
        # The tree keeps 32-bit floats, rounded outwards.
        assert box[0] <= stored[0] and box[1] >= stored[1] and box[2] <= stored[2] and box[3] >= stored[3]
        assert all(abs(a - b) < 1e-4 for a, b in zip(box, stored))


@pytest.fixture
def store(tmp_path, database):
    s = CatalogStore(Settings(home=tmp_path / "home", user="user:alice", database_url=database))
    s.insert_product({"id": PRODUCT, "owners": ["user:alice"], "readers": [], "writers": []})
    yield s
    s.close()


def test_images_are_found_by_place(store):
    store.insert_image(_row("here", HERE, _when(1)))
    store.insert_image(_row("there", THERE, _when(1)))
    store.insert_image(_row("nowhere", None, _when(1)))  # no geotrans: never found by place
    store.insert_image(_row("lost", ("not a crs", HERE[1], 10, 10), _when(1)))  # can't be placed: anywhere
    assert _names(store.find_images(PRODUCT, _boxes(HERE))) == ["here", "lost"]
    assert _names(store.find_images(PRODUCT, _boxes(THERE))) == ["lost", "there"]
    assert _names(store.find_images(PRODUCT, [WORLD])) == ["here", "lost", "there"]
    assert _names(store.find_images(PRODUCT)) == ["here", "lost", "nowhere", "there"]  # no place asked
    assert store.find_images(PRODUCT, []) == [] and store.find_images("org:other", [WORLD]) == []
    # Rows come back whole, as list_images gives them.
    assert store.find_images(PRODUCT, _boxes(THERE))[1] == store.get_image(f"{PRODUCT}:there")
    _tree_in_step(store)


def test_an_image_meeting_two_boxes_comes_once(store):
    store.insert_image(_row("everywhere", ("EPSG:4326", [-180.0, 1.0, 0.0, 80.0, 0.0, -1.0], 360, 160), _when(1)))
    assert _names(store.find_images(PRODUCT, [(170.0, 0.0, 180.0, 1.0), (-180.0, 0.0, -170.0, 1.0)])) == ["everywhere"]


def test_date_bounds_start_included_end_excluded_and_undated_left_out(store):
    for day in (1, 2, 3):
        store.insert_image(_row(f"d{day}", HERE, _when(day)))
    store.insert_image(_row("d2_late", HERE, _when(2, 23) + _dt.timedelta(microseconds=1)))
    store.insert_image(_row("undated", HERE, None))
    boxes = _boxes(HERE)
    assert _names(store.find_images(PRODUCT, boxes, _when(2), _when(3))) == ["d2", "d2_late"]
    assert _names(store.find_images(PRODUCT, boxes, _when(2), None)) == ["d2", "d2_late", "d3"]
    assert _names(store.find_images(PRODUCT, boxes, None, _when(2))) == ["d1"]
    assert _names(store.find_images(PRODUCT, boxes, _when(2, 23), _when(2, 23) + _dt.timedelta(microseconds=2))) \
        == ["d2_late"]
    # Bounds in another timezone are the same instants.
    plus2 = _dt.timezone(_dt.timedelta(hours=2))
    assert _names(store.find_images(PRODUCT, None, _dt.datetime(2020, 1, 2, 2, tzinfo=plus2),
                                    _dt.datetime(2020, 1, 3, 2, tzinfo=plus2))) == ["d2", "d2_late"]
    assert _names(store.find_images(PRODUCT, boxes)) == ["d1", "d2", "d2_late", "d3", "undated"]


def test_the_spatial_index_follows_every_write(store):
    store.insert_image(_row("a", HERE, _when(1)))
    store.insert_image(_row("b", HERE, _when(1)))
    _tree_in_step(store)
    # Moved by an update.
    store.update_image(_row("a", THERE, _when(1)))
    assert _names(store.find_images(PRODUCT, _boxes(HERE))) == ["b"]
    assert _names(store.find_images(PRODUCT, _boxes(THERE))) == ["a"]
    _tree_in_step(store)
    # Replaced (an upsert on the id) and moved back.
    store.insert_image(_row("a", HERE, _when(1)), replace=True)
    assert _names(store.find_images(PRODUCT, _boxes(HERE))) == ["a", "b"]
    assert store.find_images(PRODUCT, _boxes(THERE)) == []
    _tree_in_step(store)
    # Georeferencing removed: out of the tree.
    store.update_image(_row("b", None, _when(1)))
    assert _names(store.find_images(PRODUCT, _boxes(HERE))) == ["a"]
    _tree_in_step(store)
    store.delete_image(f"{PRODUCT}:a")
    assert store.find_images(PRODUCT, [WORLD]) == []
    _tree_in_step(store)
    store.insert_image(_row("c", THERE, _when(1)))
    store.delete_product(PRODUCT)
    assert store.find_images(PRODUCT, [WORLD]) == []
    if store.db.dialect.name == "sqlite":
        assert store.db.conn().execute("SELECT COUNT(*) FROM images_rtree").fetchone()[0] == 0


def test_a_rolled_back_write_leaves_the_index_as_it_was(store):
    store.insert_image(_row("a", HERE, _when(1)))
    with pytest.raises(RuntimeError, match="changed my mind"):
        with store.transaction():
            store.update_image(_row("a", THERE, _when(1)))
            store.insert_image(_row("b", THERE, _when(1)))
            raise RuntimeError("changed my mind")
    assert _names(store.find_images(PRODUCT, _boxes(HERE))) == ["a"]
    assert store.find_images(PRODUCT, _boxes(THERE)) == []
    _tree_in_step(store)


def test_the_tree_drives_the_query():
    """The cost of a query follows what it finds: SQLite walks the tree, then fetches rows by rowid
    (not the product's rows, probing the tree for each)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _sqlite.migrate(conn, MIGRATIONS)
    sql, args = _db.SQLITE.box_select("images", ["id", "name"], "product_id = ? AND acquired >= ? AND acquired < ?",
                                      ["p", "a", "b"], [(1.0, 2.0, 3.0, 4.0)])
    plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
    assert plan[0].startswith("SCAN r VIRTUAL TABLE") and "USING INTEGER PRIMARY KEY (rowid=?)" in plan[1], plan


def test_the_box_index_serves_the_query(store):
    """PostgreSQL: the query through the boxes can use the GiST index of the four box columns."""
    if store.db.dialect.name != "postgresql":
        pytest.skip("SQLite's tree: test_the_tree_drives_the_query")
    store.insert_image(_row("here", HERE, _when(1)))
    # 5,000 small images spread over the world (made by the database itself: a few ms), then statistics.
    store.db.write(
        "INSERT INTO images (id, product_id, name, created, modified, west, south, east, north)"
        " SELECT ? || ':x' || n, ?, 'x' || n, '', '', w, s, w + 0.01, s + 0.01 FROM"
        " (SELECT n, -179.0 + (n % 358) AS w, -80.0 + (n / 358) * 11.0 AS s FROM generate_series(1, 5000) AS n) AS g",
        (PRODUCT, PRODUCT))
    store.db.write("ANALYZE images")
    sql, args = store.db.dialect.box_select("images", ["id", "name"], "product_id = ?", [PRODUCT],
                                            _boxes(HERE) + [(170.5, 50.5, 180.0, 51.0)])
    plan = "\n".join(r[0] for r in store.db.read("EXPLAIN " + sql, args).fetchall())
    assert "images_box" in plan and "Seq Scan" not in plan, plan
    assert sorted(r[1] for r in store.db.read(sql, args).fetchall()) == ["here"]


def _version_1_home(tmp_path, rows: list[dict]):
    """A catalog made by wf_widgets before version 2: the first schema, rows written as it wrote them."""
    root = tmp_path / "home" / "catalog"
    root.mkdir(parents=True)
    conn = sqlite3.connect(root / "catalog.sqlite", isolation_level=None)
    _sqlite.migrate(conn, MIGRATIONS[:1])
    now = "2020-01-01T00:00:00+00:00"
    conn.execute("INSERT INTO products (id, owners, readers, writers, created, modified) VALUES (?, ?, ?, ?, ?, ?)",
                 (PRODUCT, '["user:alice"]', "[]", "[]", now, now))
    for r in rows:
        conn.execute(
            "INSERT INTO images (id, product_id, name, acquired, cs_code, geotrans, x_pixels, y_pixels, files, created,"
            " modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r["id"], PRODUCT, r["name"], r["acquired"].isoformat() if r["acquired"] else None, r["cs_code"],
             json.dumps(r["geotrans"]) if r["geotrans"] is not None else None, r["x_pixels"], r["y_pixels"],
             json.dumps(r["files"]), now, now))
    conn.close()
    return tmp_path / "home"


def test_a_catalog_of_version_1_opens_with_its_images_placed(tmp_path):
    home = _version_1_home(tmp_path, [_row("here", HERE, _when(1)), _row("there", THERE, _when(2)),
                                      _row("nowhere", None, _when(1)), _row("lost", ("bad", HERE[1], 1, 1), _when(1))])
    store = CatalogStore(Settings(home=home))
    try:
        conn = store.db.conn()
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.db.version() == len(MIGRATIONS)
        assert _names(store.find_images(PRODUCT, _boxes(HERE))) == ["here", "lost"]
        assert _names(store.find_images(PRODUCT, _boxes(THERE), _when(2), _when(3))) == ["there"]
        assert _names(store.list_images(PRODUCT)) == ["here", "lost", "nowhere", "there"]
        _tree_in_step(store)
        boxes = conn.execute("SELECT name, west, south, east, north FROM images ORDER BY name").fetchall()
        assert tuple(boxes[1])[1:] == WORLD and set(tuple(boxes[2])[1:]) == {None}
    finally:
        store.close()
    # Opening again finds nothing left to fill, and changes nothing.
    again = CatalogStore(Settings(home=home))
    try:
        assert again._fill_boxes() == 0
        assert again.db.conn().execute("SELECT name, west, south, east, north FROM images ORDER BY name").fetchall() \
            == boxes
    finally:
        again.close()


def test_rows_written_without_a_box_get_one_at_the_next_open(tmp_path, database):
    """A row of the current version without its box (written by another tool) is filled in, once."""
    store = CatalogStore(Settings(home=tmp_path / "home", database_url=database))
    store.insert_product({"id": PRODUCT, "owners": [], "readers": [], "writers": []})
    store.insert_image(_row("here", HERE, _when(1)))
    store.db.write("UPDATE images SET west = NULL, south = NULL, east = NULL, north = NULL")
    assert store.find_images(PRODUCT, _boxes(HERE)) == []
    store.close()
    store = CatalogStore(Settings(home=tmp_path / "home", database_url=database))
    try:
        assert _names(store.find_images(PRODUCT, _boxes(HERE))) == ["here"]
        assert store._fill_boxes() == 0
        _tree_in_step(store)
    finally:
        store.close()
