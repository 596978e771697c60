"""ExportForm at the state level: choices from the table, the API's messages, launching, code."""

from __future__ import annotations

import html
import logging

import ipywidgets
import pytest
import traitlets

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.errors import ValidationError
from wf_widgets.outputs.normalize import normalize
from wf_widgets.widgets import ExportForm, JobsBoard


def options(dropdown):
    return [value for _label, value in dropdown.options]


def api_error(call):
    """str() of what the API raises."""
    with pytest.raises(ValidationError) as info:
        call()
    return str(info.value)


# -- choices ------------------------------------------------------------------------------------
def test_int_value_offers_every_format_but_geotiff_and_says_why(backend):
    form = ExportForm(wf.Int(1) + 1)
    assert options(form.destination_dropdown) == ["download", "email"]
    assert "Catalog: The catalog destination can only be used with an Image result, not an Int" in \
        form.excluded_destinations.value
    assert options(form.format_dropdown) == ["pyarrow", "json", "msgpack"]
    assert "GeoTIFF: GeoTIFF needs an Image result, not an Int" in form.excluded_formats.value
    assert form.destination == {"type": "download"}
    assert form.format == {"type": "pyarrow", "compression": "lz4"}
    assert form.valid and form.error == "" and not form.compute_button.disabled
    assert form.estimate == {}  # only imagery gets an estimate


def test_catalog_destination_offers_only_geotiff(image_value):
    composite, tile, product = image_value
    form = ExportForm(composite, tile)
    assert options(form.destination_dropdown) == ["download", "email", "catalog"]
    assert "geotiff" in options(form.format_dropdown)
    form.destination_dropdown.value = "catalog"
    assert options(form.format_dropdown) == ["geotiff"]
    assert form.format_dropdown.value == "geotiff"
    for title in ("PyArrow", "JSON", "MessagePack"):
        assert f"{title}: Catalog accepts only GeoTIFF" in form.excluded_formats.value
    # back to download: every format again, geotiff kept as chosen
    form.destination_dropdown.value = "download"
    assert options(form.format_dropdown) == ["pyarrow", "json", "geotiff", "msgpack"]
    assert form.format_dropdown.value == "geotiff"


def test_option_fields_come_from_the_table(backend):
    form = ExportForm(wf.Int(1) + 1)
    assert isinstance(form.option_widget("format", "compression"), ipywidgets.Dropdown)
    assert form.option_widget("format", "compression").options == ("lz4", "zstd")
    form.option_widget("format", "compression").value = "zstd"
    assert form.format == {"type": "pyarrow", "compression": "zstd"}
    form.destination_dropdown.value = "email"
    subject, body = form.option_widget("destination", "subject"), form.option_widget("destination", "body")
    assert isinstance(subject, ipywidgets.Text) and subject.value == "Your job has completed"
    assert isinstance(body, ipywidgets.Textarea) and body.value == "Your Workflows job is done."
    form.format_dropdown.value = "json"
    assert form.format_options.children == ()


def test_geotiff_fields(image_value):
    composite, tile, _ = image_value
    form = ExportForm(composite, tile)
    form.format_dropdown.value = "geotiff"
    assert isinstance(form.option_widget("format", "overviews"), ipywidgets.Checkbox)
    form.option_widget("format", "overviews").value = False
    form.option_widget("format", "compression").value = "deflate"
    assert form.format == {"type": "geotiff", "overviews": False, "compression": "deflate",
                           "overview_resampler": "nearest"}


# -- the API's messages ---------------------------------------------------------------------------
def test_invalid_subject_disables_compute_with_the_apis_message(make_backend):
    make_backend(email="me@example.org", smtp_url="smtp://127.0.0.1:2525")
    two = wf.Int(1) + 1
    form = ExportForm(two)
    form.destination_dropdown.value = "email"
    assert form.valid and form.error == ""
    form.option_widget("destination", "subject").value = "Hello\nBcc: everyone@example.org"
    expected = api_error(lambda: two.compute(
        destination={"type": "email", "subject": "Hello\nBcc: everyone@example.org"}, format="pyarrow"))
    assert form.error == expected
    assert "must be a single line" in expected
    assert not form.valid and form.compute_button.disabled
    assert html.escape(expected) in form.validation_line.value
    form.option_widget("destination", "subject").value = "Hello"
    assert form.valid and not form.compute_button.disabled
    assert form.destination["subject"] == "Hello"


def test_email_without_configuration_shows_the_preflight_message(backend):
    two = wf.Int(1) + 1
    form = ExportForm(two)
    form.destination_dropdown.value = "email"
    expected = api_error(lambda: two.compute(destination="email"))
    assert "WF_WIDGETS_EMAIL" in expected
    assert form.error == expected
    assert not form.valid and form.compute_button.disabled
    # normalize() passed: the traits hold the normal forms even though preflight refused
    assert form.destination == {"type": "email", "subject": "Your job has completed",
                                "body": "Your Workflows job is done."}
    assert html.escape(expected) in form.validation_line.value


def test_image_without_geoctx_shows_the_apis_message(image_value):
    composite, _tile, _ = image_value
    form = ExportForm(composite)
    assert form.error == api_error(lambda: composite.compute())
    assert "needs a geoctx" in form.error and form.compute_button.disabled


# -- launching -----------------------------------------------------------------------------------
def test_compute_launches_one_job_per_tile_with_the_forms_dicts(backend):
    tiles = [wf.DLTile.from_latlon(35.6870, -105.9378 + 0.03 * i, 10, 256, 0) for i in range(3)]
    two = wf.Int(1) + 1
    form = ExportForm(two, tiles)
    form.format_dropdown.value = "json"
    assert form.compute_button.description == "Compute (3 jobs)"
    form.compute_button.click()
    assert form.callback_error == ""
    assert len(form.jobs) == 3
    assert [job.label for job in form.jobs] == [t.key for t in tiles]
    for job in form.jobs:
        assert job.destination == form.destination == {"type": "download"}
        assert job.format == form.format == {"type": "json"}
        assert job.wait(30).result() == b"2"
    assert form.board.jobs == form.jobs
    form.board.refresh()
    assert [r["id"] for r in form.board.rows] == [j.id for j in form.jobs]
    assert all(r["stage"] == "SUCCEEDED" and r["url"] for r in form.board.rows)
    form.close()


def test_compute_does_nothing_while_invalid(backend):
    form = ExportForm(wf.Int(1) + 1)
    form.destination_dropdown.value = "email"  # not configured
    form.compute_button.click()
    assert form.jobs == [] and backend.jobs.list() == []
    assert form.callback_error.startswith("ValidationError: The email destination needs")
    with pytest.raises(ValidationError, match="WF_WIDGETS_EMAIL"):
        form.compute()


def test_errors_in_callbacks_show_under_the_form(backend, monkeypatch, caplog):
    import wf_widgets.widgets.export_form as export_form

    def broken(*args, **kwargs):
        raise RuntimeError("the runner is on fire")

    monkeypatch.setattr(export_form, "submit", broken)
    form = ExportForm(wf.Int(1) + 1)
    with caplog.at_level(logging.ERROR, logger="wf_widgets.widgets"):
        form.compute_button.click()
    assert form.callback_error == "RuntimeError: the runner is on fire"
    assert "the runner is on fire" in form.error_line.value
    assert any("the runner is on fire" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_tile_map_like_selection_is_followed(backend):
    class FakeMap(traitlets.HasTraits):
        selected_keys = traitlets.List(traitlets.Unicode())

        @property
        def selected_tiles(self):
            return [wf.DLTile.from_key(k) for k in self.selected_keys]

    m = FakeMap()
    form = ExportForm(wf.Int(1) + 1, m)
    assert not form.valid and "No tile selected" in form.error
    keys = [wf.DLTile.from_latlon(35.6870, -105.9378 + 0.03 * i, 10, 256, 0).key for i in range(2)]
    m.selected_keys = keys
    assert form.valid and form.compute_button.description == "Compute (2 jobs)"
    assert form.code.startswith("jobs = [") and "for tile in m.selected_tiles" in form.code
    jobs = form.compute()
    assert [j.label for j in jobs] == keys
    for j in jobs:
        j.wait(30)
    form.close()


# -- estimate, catalog ---------------------------------------------------------------------------
def test_estimate_for_an_image(image_value):
    composite, tile, _ = image_value
    form = ExportForm(composite, [tile, wf.DLTile.from_key(tile.key.replace(":-34:", ":-33:"))])
    assert form.estimate == {"jobs": 2, "pixels": 2 * 256 * 256, "pixels_per_job": 256 * 256, "bands": 2,
                             "band_names": ["red", "nir"], "bytes": 2 * 256 * 256 * 2 * 8, "per_image": False}
    assert "bands red, nir · about 2.0 MiB as float64 (2 bands)" in form.estimate_line.value


def test_catalog_image_picker(image_value, backend):
    composite, tile, product = image_value
    # a public product of someone else: readable, not writable, so not offered
    bob = Backend(Settings(home=backend.settings.home, user="user:bob"))
    try:
        wf.catalog.Product(id="org:theirs", name="theirs", readers=["group:public"], store=bob.catalog).save()
    finally:
        bob.close()
    assert "org:theirs" in [p.id for p in wf.catalog.Product.search()]
    form = ExportForm(composite, tile)
    form.destination_dropdown.value = "catalog"
    assert form.product_picker.options == ("org:widgets",)
    assert form.image_name.value == "{tile_key}"
    name = tile.key.replace(":", "_")
    assert form.destination["image"] == {"id": f"org:widgets:{name}", "name": name, "product_id": "org:widgets"}
    assert form.destination["overwrite"] is False
    form.option_widget("destination", "rescale").value = True
    assert form.destination["rescale"] is True
    form.image_name.value = "scene_{tile_key}"
    assert form.destination["image"]["name"] == f"scene_{name}"
    form.image_name.value = "{nope}"
    assert not form.valid and "image name template" in form.error


def test_catalog_names_must_differ_between_tiles(image_value):
    composite, tile, _ = image_value
    tiles = [tile, wf.DLTile.from_key(tile.key.replace(":-34:", ":-33:"))]
    form = ExportForm(composite, tiles)
    form.destination_dropdown.value = "catalog"
    form.image_name.value = "same"
    assert not form.valid and "same image name" in form.error
    assert form.compute_button.disabled


# -- show code -----------------------------------------------------------------------------------
class Recorder:
    """Stands in for the value in executed code: normalises what compute() receives."""

    def __init__(self, kind):
        self.kind, self.calls = kind, []

    def compute(self, geoctx=None, destination="download", format="pyarrow", block=True):
        self.calls.append((geoctx, normalize(destination, format, self.kind), block))
        return len(self.calls)


def run_code(form, **names):
    namespace = {"wf": wf, **names}
    exec(form.code, namespace)
    return namespace


def test_show_code_toggles_and_runs(backend):
    two = wf.Int(1) + 1
    form = ExportForm(two)
    assert form.value_name == "two"  # found in the caller's namespace
    assert form.code_view.layout.display == "none"
    form.code_toggle.value = True
    assert form.show_code and form.code_view.layout.display is None
    form.format_dropdown.value = "json"
    assert form.code == 'two.compute(destination={"type": "download"}, format={"type": "json"})'
    assert html.escape(form.code) in form.code_view.value
    run_code(form, two=two)  # the real call: computes and returns b"2"
    row = backend.jobs.list(limit=1)[0]
    assert (row["destination"], row["format"]) == (form.destination, form.format)


def test_show_code_gives_the_same_normalised_dicts(make_backend):
    make_backend(email="me@example.org", smtp_url="smtp://127.0.0.1:2525")
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    composite = wf.Int(1) + 1
    form = ExportForm(composite, tile)
    form.destination_dropdown.value = "email"
    form.option_widget("destination", "subject").value = 'say "hi" \\ there'
    form.option_widget("destination", "body").value = "line 1\nline 2 é"
    form.option_widget("format", "compression").value = "zstd"
    assert form.code.startswith("composite.compute(\n    tile,\n    destination={\"type\": \"email\"")
    rec = Recorder(composite.kind)
    run_code(form, composite=rec, tile=tile)
    assert rec.calls == [(tile, (form.destination, form.format), True)]
    assert form.destination["body"] == "line 1\nline 2 é"


def test_show_code_for_tiles_and_catalog(image_value):
    composite, tile, _ = image_value
    tiles = [tile, wf.DLTile.from_key(tile.key.replace(":-34:", ":-33:"))]
    form = ExportForm(composite, tiles)
    form.destination_dropdown.value = "catalog"
    assert "for tile in tiles" in form.code and 'name=tile.key.replace(":", "_")' in form.code
    rec = Recorder("Image")
    ns = run_code(form, composite=rec, tiles=tiles)
    assert ns["jobs"] == [1, 2]
    first_geoctx, (dest, fmt), block = rec.calls[0]
    assert first_geoctx == tiles[0] and block is False
    assert (dest, fmt) == (form.destination, form.format)
    form.image_name.value = "x_{tile_key}"
    rec = Recorder("Image")
    run_code(form, composite=rec, tiles=tiles)
    assert rec.calls[1][1][0]["image"]["name"] == "x_" + tiles[1].key.replace(":", "_")


# -- base ---------------------------------------------------------------------------------------
def test_unknown_keyword_arguments_raise_type_error(backend):
    with pytest.raises(TypeError, match=r"ExportForm\(\) got unexpected keyword argument\(s\) 'destnation'"):
        ExportForm(wf.Int(1), destnation="email")
    with pytest.raises(TypeError, match="'_action'"):
        JobsBoard(_action={"op": "cancel_all"})
    form = ExportForm(wf.Int(1), value_name="x", layout=ipywidgets.Layout(width="500px"))
    assert form.code.startswith("x.compute(")


def test_form_is_one_of_the_exports():
    assert set(wf.widgets.__all__) >= {"ExportForm", "JobsBoard"}
    assert wf.widgets.ExportForm is ExportForm



def test_a_form_for_nine_tiles_prepares_each_tile_once(image_value, monkeypatch):
    """Build a graph, show a form for 9 tiles, compute: normalize and preflight run once per tile."""
    from wf_widgets.delivery import HANDLERS
    from wf_widgets.jobs import plan

    composite, tile, _ = image_value
    size, pad, res, zone, path, row = tile.key.split(":")
    tiles = [wf.DLTile.from_key(f"{size}:{pad}:{res}:{zone}:{int(path) + i}:{int(row) + j}")
             for i in range(3) for j in range(3)]
    calls = {"normalize": 0, "preflight": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(plan, "normalize", counting("normalize", plan.normalize))
    handler = HANDLERS["download"]
    monkeypatch.setattr(handler, "preflight", counting("preflight", handler.preflight))
    form = ExportForm(composite, tiles)
    assert form.valid and calls == {"normalize": 1, "preflight": 1}  # live validation: the first tile
    jobs = form.compute()
    assert len(jobs) == 9 and {job.label for job in jobs} == {t.key for t in tiles}
    assert calls == {"normalize": 9, "preflight": 9}
    for job in jobs:
        job.wait(60)
        assert job.stage == "SUCCEEDED"
