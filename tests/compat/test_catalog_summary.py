"""Port of the original client's ``catalog/tests/test_summary.py`` (v1.12.1).

The original mocked the service's summary answers; here the images are uploaded to a real
local catalog (org ``descarteslabs``), so the byte counts are those of their files.
docs/compat.md lists what was adapted.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone

import numpy as np
import pytest

from wf_widgets.catalog import Image, Product
from wf_widgets.catalog import properties as p

GEOTRANS = (258292.5, 15.0, 0.0, 4743307.5, 0.0, -15.0)


@pytest.fixture
def org(make_backend):
    """A catalog whose org (``WF_WIDGETS_ORG``) is the original tests' ``descarteslabs``."""
    return make_backend(org="descarteslabs")


def upload(name: str, acquired: str, product_id: str = "descarteslabs:fake-product") -> Image:
    image = Image(name=name, product_id=product_id, acquired=acquired, cs_code="EPSG:32615", geotrans=GEOTRANS)
    return image.upload_ndarray(np.zeros((1, 16, 16), np.uint8))


class TestImageSummary:
    @pytest.fixture(autouse=True)
    def _search(self, org):
        Product(id="fake-product").save()
        Product(id="other").save()
        self.search = Image.search()

    def test_image_summary(self):
        image = upload("one", "2019-05-01")
        upload("elsewhere", "2019-05-01", product_id="descarteslabs:other")

        s = self.search.filter(p.product_id == "descarteslabs:fake-product")
        summary = s.summary()

        assert summary.products == ["descarteslabs:fake-product"]
        summary_repr = repr(summary)
        match_str = """\
            Summary for 1 images:
             - Total bytes: 44,306,192
             - Products: descarteslabs:fake-product"""
        # the mocked service answered 44,306,192 bytes; here, the size of the uploaded file
        size = image.files[0]["size"]
        assert summary.bytes == size
        assert summary_repr.strip("\n") == textwrap.dedent(match_str).replace("44,306,192", f"{size:,}")

    def test_summary_interval(self):
        upload("a", "2018-03-04")
        upload("b", "2018-03-30")
        upload("c", "2018-05-01")
        upload("d", "2019-01-02")  # after end_datetime
        results = self.search.summary_interval(
            aggregate_date_field="created",
            interval="month",
            start_datetime=datetime(2018, 1, 1),
            end_datetime="2019-01-01",
        )
        # all were created now, after end_datetime; by acquired date instead:
        assert results == []
        results = self.search.summary_interval(
            aggregate_date_field="acquired",
            interval="month",
            start_datetime=datetime(2018, 1, 1),
            end_datetime="2019-01-01",
        )

        assert len(results) == 2
        assert isinstance(results[0].interval_start, datetime)
        assert [(r.interval_start, r.count) for r in results] == [
            (datetime(2018, 3, 1, tzinfo=timezone.utc), 2), (datetime(2018, 5, 1, tzinfo=timezone.utc), 1)]

    def test_summary_interval_defaults(self):
        upload("a", "2019-03-04")
        results = self.search.summary_interval()

        assert len(results) == 1
        assert isinstance(results[0].interval_start, datetime)
        assert results[0].interval_start == datetime(2019, 1, 1, tzinfo=timezone.utc)

    def test_summary_interval_unbounded(self):
        upload("a", "1990-03-04")
        upload("b", "2030-03-04")
        results = self.search.summary_interval(start_datetime=0, end_datetime=0)
        assert [r.interval_start.year for r in results] == [1990, 2030]

    def test_invalid_summary(self):
        with pytest.raises(AttributeError):
            Product.search().summary()
