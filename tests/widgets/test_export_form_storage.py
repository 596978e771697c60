"""ExportForm and the storage destination: its URL field comes from the table, the API's checks and code."""

from __future__ import annotations

import ipywidgets
import pytest

import wf_widgets as wf
from wf_widgets.errors import ValidationError
from wf_widgets.widgets import ExportForm


def api_error(call):
    with pytest.raises(ValidationError) as info:
        call()
    return str(info.value)


def test_storage_shows_a_url_field_and_the_apis_messages(make_backend, tmp_path):
    make_backend(storage_roots=str(tmp_path))
    two = wf.Int(1) + 1
    form = ExportForm(two)
    form.destination_dropdown.value = "storage"
    field = form.option_widget("destination", "url")
    assert isinstance(field, ipywidgets.Text) and field.value == ""
    assert "s3://<bucket>/<key>, az://<container>/<key> or file:///" in field.tooltip
    assert "gs://" not in field.tooltip  # only the tested schemes
    assert form.error == api_error(lambda: two.compute(destination={"type": "storage", "url": ""}))
    assert "destination.url must be a storage URL: '' is refused because it is empty" in form.error
    field.value = "gs://bucket/{job_id}.{ext}"
    assert "gs:// is not offered" in form.error and form.compute_button.disabled
    field.value = f"file://{tmp_path}/../x.json"
    assert form.error == api_error(lambda: two.compute(destination={"type": "storage", "url": field.value}))
    field.value = f"file://{tmp_path}/{{job_id}}.{{ext}}"
    assert form.valid and form.destination == {"type": "storage", "url": field.value}


def test_storage_launches_and_show_code_emits_the_url(make_backend, tmp_path):
    backend = make_backend(storage_roots=str(tmp_path))
    two = wf.Int(1) + 1
    form = ExportForm(two)
    form.destination_dropdown.value = "storage"
    form.format_dropdown.value = "json"
    url = f"file://{tmp_path}/{{date}}/{{job_id}}.{{ext}}"
    form.option_widget("destination", "url").value = url
    assert form.code.startswith("two.compute(") and f'"type": "storage",\n        "url": "{url}",' in form.code
    (job,) = form.compute()
    job.wait(60)
    assert job.result().startswith(f"file://{tmp_path}/") and job.result().endswith(f"/{job.id}.json")
    namespace = {"wf": wf, "two": two}
    exec(form.code, namespace)  # the real call: writes a second object
    rows = backend.jobs.list(limit=10)
    assert len(rows) == 2 and rows[0]["destination"] == rows[1]["destination"] == {"type": "storage", "url": url}


def test_select_a_storage_destination_fills_the_field(make_backend, tmp_path):
    make_backend(storage_roots=str(tmp_path))
    form = ExportForm(wf.Int(1) + 1)
    url = f"file://{tmp_path}/{{tile_key}}.{{ext}}"
    form.destination = {"type": "storage", "url": url}
    assert form.destination_dropdown.value == "storage"
    assert form.option_widget("destination", "url").value == url and form.valid
