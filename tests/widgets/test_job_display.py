"""Rich display of a Job: a live one-job board in a notebook, the text bar elsewhere.

These run once ``Job._repr_mimebundle_`` / ``Job._repr_html_`` exist (see docs/widgets.md).
"""

from __future__ import annotations

import wf_widgets as wf

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def test_job_is_a_live_board_in_a_notebook_and_text_elsewhere(backend, monkeypatch):
    job = (wf.Int(1) + 1).compute(block=False).wait(30)
    assert job._repr_mimebundle_() == {"text/plain": repr(job)}
    monkeypatch.setattr("wf_widgets.jobs.job.in_notebook", lambda: True)
    bundle = job._repr_mimebundle_()
    assert WIDGET_MIME in bundle and bundle["text/plain"] == repr(job)


def test_job_html_card(backend):
    job = (wf.Int(1) + 1).compute(block=False).wait(30)
    assert job.id in job._repr_html_() and "SUCCEEDED" in job._repr_html_()


def test_catalog_image_and_image_result_have_cards(backend):
    import numpy as np

    from wf_widgets.outputs.results import ImageResult

    assert "wf-widgets-card" in ImageResult(np.zeros((1, 4, 4)))._repr_html_()
    image = wf.catalog.Image(name="my_image", product_id="org:my_product_id")
    assert "Image: my_image" in image._repr_html_()
