"""ExportForm at the state level: choices from the table, the API's messages, launching, code."""

from __future__ import annotations

import html
import logging
import re

import ipywidgets
import pytest
import traitlets

import wf_widgets as wf
from tests._webhook import Receiver
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.errors import ValidationError
from wf_widgets.outputs.normalize import normalize
from wf_widgets.server.testing import wait_for
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
    assert options(form.destination_dropdown) == ["download", "email", "storage"]
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
    assert options(form.destination_dropdown) == ["download", "email", "catalog", "storage"]
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
    assert options(form.product_picker) == ["", "org:widgets"]  # nothing chosen yet
    assert form.product_picker.value == "" and not form.valid
    assert form.error == "Choose the catalog product to upload into" and form.compute_button.disabled
    assert "org:theirs" not in form.excluded_products.value  # not a candidate at all
    form.product_picker.value = "org:widgets"
    assert form.valid
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
    form.product_picker.value = "org:widgets"
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
    assert form.code.startswith('composite.compute(\n    tile,\n    destination={\n        "type": "email",\n')
    rec = Recorder(composite.kind)
    run_code(form, composite=rec, tile=tile)
    assert rec.calls == [(tile, (form.destination, form.format), True)]
    assert form.destination["body"] == "line 1\nline 2 é"


def test_show_code_for_tiles_and_catalog(image_value):
    composite, tile, _ = image_value
    tiles = [tile, wf.DLTile.from_key(tile.key.replace(":-34:", ":-33:"))]
    form = ExportForm(composite, tiles)
    form.destination_dropdown.value = "catalog"
    form.product_picker.value = "org:widgets"
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


# -- writing destination and format (one source of truth: the controls) ------------------------------
def test_writing_the_format_selects_it_and_the_job_runs_with_it(backend):
    two = wf.Int(1) + 1
    form = ExportForm(two)
    form.format = {"type": "json"}  # what examples/teaching.ipynb does
    assert form.format_dropdown.value == "json" and form.format_options.children == ()
    assert form.format == {"type": "json"}
    assert form.code == 'two.compute(destination={"type": "download"}, format={"type": "json"})'
    (job,) = form.compute()
    assert job.format == {"type": "json"} and job.wait(30).result() == b"2"
    form.format = "PyArrow"  # a name, any case, as compute() takes it
    assert form.format_dropdown.value == "pyarrow" and form.format == {"type": "pyarrow", "compression": "lz4"}
    form.format = {"type": "pyarrow", "compression": "zstd"}
    assert form.option_widget("format", "compression").value == "zstd"
    assert form.format == {"type": "pyarrow", "compression": "zstd"}


def test_writing_the_destination_selects_it_and_its_options(make_backend):
    make_backend(email="me@example.org", smtp_url="smtp://127.0.0.1:2525")
    two = wf.Int(1) + 1
    form = ExportForm(two)
    form.format = "json"
    form.destination = "email"
    assert form.destination_dropdown.value == "email" and form.format_dropdown.value == "json"  # json kept
    assert form.option_widget("destination", "subject").value == "Your job has completed"
    form.destination = {"type": "email", "subject": "My Computation is Done"}
    assert form.option_widget("destination", "subject").value == "My Computation is Done"
    assert form.destination == normalize({"type": "email", "subject": "My Computation is Done"}, "json", "Int")[0]
    assert form.valid and '"subject": "My Computation is Done"' in form.code
    # the constructor takes them too
    other = ExportForm(two, destination="email", format={"type": "msgpack"})
    assert (other.destination_dropdown.value, other.format_dropdown.value) == ("email", "msgpack")


def test_writing_a_catalog_image_selects_catalog_geotiff_product_and_name(image_value):
    composite, tile, product = image_value
    form = ExportForm(composite, tile)
    form.format = "json"
    image = wf.catalog.Image(name="my_image", product_id=product.id, extra_properties={"run": 3})
    form.destination = image
    # as compute(tile, destination=image): the catalog takes GeoTIFF, so the format follows
    assert form.destination_dropdown.value == "catalog" and form.format_dropdown.value == "geotiff"
    assert form.product_picker.value == product.id and form.image_name.value == "my_image"
    assert form.destination == normalize(image, "pyarrow", "Image")[0]
    assert form.destination["image"]["extra_properties"] == {"run": 3}
    assert "extra_properties={'run': 3}" in html.unescape(form.option_widget("destination", "image").extra_line.value)
    assert form.valid, form.error
    form.destination = {"type": "catalog", "image": image, "overwrite": True, "change_dtype": True}
    assert form.option_widget("destination", "overwrite").value is True
    assert form.option_widget("destination", "change_dtype").value is True
    form.format = {"type": "geotiff", "compression": "deflate", "overviews": False}
    assert form.option_widget("format", "compression").value == "deflate"
    assert form.format == {"type": "geotiff", "overviews": False, "compression": "deflate",
                           "overview_resampler": "nearest"}
    (job,) = form.compute()
    assert job.wait(60).stage == "SUCCEEDED", job.error
    assert job.result().extra_properties["run"] == 3 and job.destination == form.destination
    assert job.result().extra_properties["wf:job_id"] == job.id
    # a name with braces is a name, not a template
    form.destination = wf.catalog.Image(name="a{b}", product_id=product.id)
    assert form.destination["image"]["name"] == "a{b}" and form.valid


def test_writing_what_compute_would_refuse_raises_and_leaves_the_controls(image_value):
    composite, tile, product = image_value
    two = wf.Int(1) + 1
    form = ExportForm(two)
    before = (form.destination, form.format, form.destination_dropdown.value, form.format_dropdown.value)
    for attribute, bad, call in [
        ("destination", "dropbox", lambda: two.compute(destination="dropbox")),
        ("format", "geotiff", lambda: two.compute(format="geotiff")),
        ("format", {"type": "pyarrow", "compression": "gzip"},
         lambda: two.compute(format={"type": "pyarrow", "compression": "gzip"})),
        ("destination", {"type": "email", "subjekt": "hi"},
         lambda: two.compute(destination={"type": "email", "subjekt": "hi"})),
    ]:
        with pytest.raises(ValidationError) as info:
            setattr(form, attribute, bad)
        assert str(info.value) == api_error(call)
        assert (form.destination, form.format, form.destination_dropdown.value, form.format_dropdown.value) == before
    image_form = ExportForm(composite, tile)
    image_form.destination = wf.catalog.Image(name="x", product_id=product.id)
    with pytest.raises(ValidationError, match="Catalog accepts only GeoTIFF"):
        image_form.format = "json"
    assert image_form.format_dropdown.value == "geotiff"
    missing = wf.catalog.Image(name="x", product_id="org:missing")
    with pytest.raises(ValidationError) as info:
        image_form.destination = missing
    assert str(info.value) == api_error(lambda: composite.compute(tile, destination=missing))
    assert image_form.product_picker.value == product.id


def test_a_write_validates_once(backend, monkeypatch):
    form = ExportForm(wf.Int(1) + 1)
    calls = []
    check = form._check
    monkeypatch.setattr(form, "_check", lambda everything: calls.append(everything) or check(everything))
    seen = []
    form.observe(lambda change: seen.append(change["new"]), names=["format"])
    form.format = {"type": "json"}
    assert calls == [False]  # one validation, no observer writing back to what it observes
    assert seen == [{"type": "json"}]


# -- the product picker -------------------------------------------------------------------------------
def _product(product_id, names=("red", "nir"), data_type="Float64", nodata=-9999.0):
    wf.catalog.Product(id=product_id, name=product_id).save()
    for i, name in enumerate(names):
        wf.catalog.GenericBand(name=name, product_id=product_id, data_type=data_type, nodata=nodata,
                               band_index=i).save()


def test_picker_offers_only_the_products_the_value_fits_and_says_why(image_value):
    composite, tile, product = image_value
    _product("org:three", names=("a", "b", "c"))
    _product("org:counts", data_type="UInt16", nodata=0)
    form = ExportForm(composite, tile)
    form.destination_dropdown.value = "catalog"
    assert options(form.product_picker) == ["", "org:widgets"]
    excluded = html.unescape(form.excluded_products.value)
    assert "org:three: The Image has 2 band(s) (red, nir) but product 'org:three' has 3 (a, b, c)" in excluded
    assert "org:counts: Product 'org:counts' stores UInt16 and computed imagery is float64: tick change_dtype" in excluded
    # the rule depends on change_dtype: ticking it offers the UInt16 product (not chosen)
    form.option_widget("destination", "change_dtype").value = True
    assert options(form.product_picker) == ["", "org:counts", "org:widgets"]
    assert form.product_picker.value == ""
    form.product_picker.value = "org:counts"
    assert form.valid
    form.option_widget("destination", "change_dtype").value = False  # no longer fits: no longer chosen
    assert form.product_picker.value == "" and not form.valid
    with pytest.raises(ValidationError, match="stores UInt16 and computed imagery is float64"):
        form.destination = wf.catalog.Image(name="x", product_id="org:counts")


def test_demo_composite_is_not_offered_its_source_product(backend):
    from wf_widgets.demo_data import make_demo_data

    make_demo_data(backend)
    composite = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01").mean(axis="images")
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    form = ExportForm(composite, tile)
    form.destination_dropdown.value = "catalog"
    assert options(form.product_picker) == [""]
    assert "sentinel-1:GRD: Product 'sentinel-1:GRD' stores UInt16" in html.unescape(form.excluded_products.value)
    assert "No catalog product you may write to takes this value" in form.error and not form.valid
    form.option_widget("destination", "rescale").value = True
    form.option_widget("destination", "change_dtype").value = True
    form.product_picker.value = "sentinel-1:GRD"
    assert form.valid
    (job,) = form.compute()
    assert job.wait(60).stage == "SUCCEEDED", job.error


def test_live_validation_rechecks_that_the_image_is_free(image_value):
    composite, tile, product = image_value
    form = ExportForm(composite, tile)
    form.destination_dropdown.value = "catalog"
    form.product_picker.value = product.id
    form.image_name.value = "taken"
    assert form.valid
    composite.compute(tile, destination=wf.catalog.Image(name="taken", product_id=product.id))  # elsewhere
    form.value_name = "c"  # anything that validates again, the fields unchanged
    assert not form.valid and form.error == api_error(
        lambda: composite.compute(tile, destination=wf.catalog.Image(name="taken", product_id=product.id)))
    assert "already exists" in form.error and form.compute_button.disabled


def test_after_compute_the_line_says_what_was_launched_and_what_a_second_click_would_do(image_value):
    composite, tile, product = image_value
    tiles = [tile, wf.DLTile.from_key(tile.key.replace(":-34:", ":-33:"))]
    form = ExportForm(composite, tiles)
    form.destination_dropdown.value = "catalog"
    form.product_picker.value = product.id
    assert "Ready: 2 jobs to launch" in form.validation_line.value
    jobs = form.compute()
    assert re.fullmatch(r"Launched 2 jobs at \d\d:\d\d", form.launched)
    # the jobs are uploading: a second click would upload the same images again
    line = html.unescape(form.validation_line.value)
    assert f"{form.launched}; a second click would fail: Image 'org:widgets:" in line
    assert "is being uploaded by job" in line and "overwrite=True" in line
    assert not form.valid and form.compute_button.disabled
    for job in jobs:
        assert job.wait(60).stage == "SUCCEEDED", job.error
    form.board.refresh()  # the board sees them end: the form validates again
    assert "already exists" in form.error and "a second click would fail" in form.validation_line.value
    form.option_widget("destination", "overwrite").value = True
    assert form.valid and f"{form.launched}; a second click would launch 2 more jobs" in form.validation_line.value


def test_after_compute_a_download_form_says_a_second_click_launches_again(backend):
    form = ExportForm(wf.Int(1) + 1)
    (job,) = form.compute()
    assert "; a second click would launch 1 more job" in form.validation_line.value
    assert form.valid and not form.compute_button.disabled
    job.wait(30)


# -- "Show code" is laid out as black lays it out --------------------------------------------------------
def ruff_format(code: str) -> str:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "ruff", "format", "--line-length", "88", "--config",
                           "format.skip-magic-trailing-comma = true", "-"], input=code, capture_output=True,
                          text=True, check=True).stdout


def test_show_code_is_formatted_as_black_would(image_value, make_backend):
    composite, tile, product = image_value
    tiles = [tile, wf.DLTile.from_key(tile.key.replace(":-34:", ":-33:"))]
    form = ExportForm(composite, tiles)
    form.destination_dropdown.value = "catalog"
    form.product_picker.value = product.id
    codes = [form.code]
    form.image_name.value = "scene_{tile_key}"
    codes.append(form.code)
    one = ExportForm(composite, tile)
    one.destination = wf.catalog.Image(name="my_image", product_id=product.id, extra_properties={"a": 'say "hi"'})
    codes.append(one.code)
    one.destination = {"type": "email", "subject": "x" * 90, "body": "it's done,\nsee the link"}
    codes.append(one.code)
    one.destination = "download"
    codes.append(one.code)
    for code in codes:
        assert code + "\n" == ruff_format(code + "\n")
        # no line is longer than 88 columns, but for a string too long to split
        assert all(len(line) <= 88 or '"' + "x" * 90 + '"' in line for line in code.splitlines()), code
    assert '        "overwrite": False,\n' in codes[0]  # one option a line: the dict doesn't fit
    rec = Recorder("Image")
    run_code(one, composite=rec, tile=tile)
    assert rec.calls[0][1] == (one.destination, one.format)


def test_writing_a_format_the_chosen_product_cannot_store_raises(image_value):
    composite, tile, product = image_value
    form = ExportForm(composite, tile)
    form.destination = wf.catalog.Image(name="x", product_id=product.id)
    jpeg = {"type": "geotiff", "compression": "jpeg"}
    with pytest.raises(ValidationError) as info:
        form.format = jpeg
    assert str(info.value) == api_error(lambda: composite.compute(
        tile, destination=wf.catalog.Image(name="x", product_id=product.id), format=jpeg))
    assert form.option_widget("format", "compression").value == "lzw" and form.product_picker.value == product.id


# -- notify and retries -----------------------------------------------------------------------------
def test_notify_and_retries_fields_launch_with_them_and_show_in_the_code(make_backend):
    backend = make_backend(webhook_allow="127.0.0.1")
    receiver = Receiver().start()
    try:
        two = wf.Int(1) + 1
        form = ExportForm(two)
        assert (form.notify_webhook.value, form.notify_email.value, form.retries_field.value) == ("", False, 0)
        assert "notify" not in form.code and "retries" not in form.code  # nothing asked: as compute() is called
        form.format_dropdown.value = "json"
        form.notify_webhook.value = receiver.url
        form.retries_field.value = 2
        assert form.valid
        assert form.code == ("two.compute(\n    destination={\"type\": \"download\"},\n    format={\"type\": \"json\"},\n"
                             f"    notify={{\"webhook\": \"{receiver.url}\"}},\n    retries=2,\n)")
        [job] = form.compute()
        assert (job.notify, job.retries) == ({"webhook": receiver.url, "email": False}, 2)
        assert job.wait(30).result() == b"2"
        wait_for(lambda: len(receiver.requests) == 1, timeout=30, what="the webhook")
        assert receiver.requests[0]["event"]["job_id"] == job.id
        run_code(form, two=two)  # the code shown does the same
        row = backend.jobs.list(limit=1)[0]
        assert (row["retries"], backend.jobs.get(row["id"], graph=False)["notify"]) == (2, job.notify)
    finally:
        receiver.stop()
    form.close()


def test_a_refused_webhook_or_email_without_settings_shows_the_apis_message(backend):
    form = ExportForm(wf.Int(1) + 1)
    form.notify_webhook.value = "http://10.0.0.1/hook"
    expected = api_error(lambda: (wf.Int(1) + 1).compute(notify={"webhook": "http://10.0.0.1/hook"}))
    assert not form.valid and form.compute_button.disabled and form.error == expected
    assert html.escape(expected) in form.validation_line.value
    form.notify_webhook.value = ""
    assert form.valid
    form.notify_email.value = True
    assert form.error == api_error(lambda: (wf.Int(1) + 1).compute(notify={"email": True}))
    assert "notify.email needs WF_WIDGETS_EMAIL and WF_WIDGETS_SMTP_URL" in form.error
    assert backend.jobs.list() == []
    form.close()
