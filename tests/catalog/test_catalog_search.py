"""catalog.search: filters, sorting, limits and text of Product/Band/Image searches, as the current user."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely.geometry

from wf_widgets.catalog import Band, Image, MaskBand, Product, SpectralBand
from wf_widgets.catalog import properties as p
from wf_widgets.errors import ValidationError

from ._helpers import new_image


def test_searches_see_only_readable_products_and_their_children(cat, as_user, product):
    SpectralBand(product=product, name="red", data_type="UInt16").save()
    MaskBand(product=product, name="alpha", is_alpha=True).save()
    with as_user("user:bob"):
        theirs = Product(id="bob:public", readers=["group:public"]).save()
        SpectralBand(product=theirs, name="red", data_type="UInt16").save()
        Product(id="bob:private").save()
    assert [x.id for x in Product.search()] == ["bob:public", "org:my_product_id"]
    assert sorted(b.id for b in Band.search()) == ["bob:public:red", "org:my_product_id:alpha", "org:my_product_id:red"]
    assert [b.id for b in MaskBand.search()] == ["org:my_product_id:alpha"]
    assert [b.id for b in SpectralBand.search().filter(p.product_id == "bob:public")] == ["bob:public:red"]


def test_images_by_product_date_and_place(cat, product):
    for day in (1, 2, 3):
        new_image(name=f"d{day}", acquired=dt.date(2020, 1, day), x_pixels=10, y_pixels=10).save()
    Image(name="nowhere", product_id=product.id, acquired="2020-01-02").save()
    s = Image.search().filter(p.product == product)
    assert [i.name for i in s.filter(p.acquired >= dt.date(2020, 1, 2)).sort("name")] == ["d2", "d3", "nowhere"]
    dated = s.filter((p.acquired >= "2020-01-02") & (p.acquired < dt.datetime(2020, 1, 3, tzinfo=dt.timezone.utc)))
    assert sorted(i.name for i in dated) == ["d2", "nowhere"]
    placed = s.intersects(shapely.geometry.box(-105.01, 36.0, -104.99, 36.2))
    assert sorted(i.name for i in placed) == ["d1", "d2", "d3"]
    assert [i.name for i in s.sort("acquired", ascending=False).limit(2)] == ["d3", "d2"]


def test_like_prefix_text_and_lists(cat):
    for id, name, tags in (("org:alpha", "Alpha SAR", ["sar", "s1"]), ("org:beta", "Beta", ["optical"]),
                           ("org:gamma", None, [])):
        Product(id=id, name=name, tags=tags).save()
    assert [x.id for x in Product.search().filter(p.name.like("%SAR"))] == ["org:alpha"]
    assert [x.id for x in Product.search().filter(p.name.like("B_ta"))] == ["org:beta"]
    assert [x.id for x in Product.search().filter(p.id.prefix("org:g"))] == ["org:gamma"]
    assert [x.id for x in Product.search().filter(p.tags != "sar")] == ["org:beta", "org:gamma"]
    assert [x.id for x in Product.search().filter(p.tags.in_(["s1", "optical"]))] == ["org:alpha", "org:beta"]
    assert [x.id for x in Product.search().find_text("beta")] == ["org:beta"]
    assert [x.id for x in Product.search().sort("name")] == ["org:alpha", "org:beta", "org:gamma"]


def test_bad_searches_are_clear_errors(cat, product):
    with pytest.raises(ValidationError, match="Only filter expressions combine with & and \\|"):
        (p.name == "x") & True
    with pytest.raises(ValidationError, match="limit must be an integer >= 0 or None, got -1"):
        Product.search().limit(-1)
    with pytest.raises(ValidationError, match="needs at least one value"):
        p.name.in_([])
    with pytest.raises(ValidationError, match=r"Cannot compare name \(str 'My product'\) with int 3"):
        list(Product.search().filter(p.name > 3))
    with pytest.raises(AttributeError):
        p._private  # noqa: B018
    assert repr(Product.search().filter(p.name == "x").limit(2)) == \
        "Product.search().filter(properties.name eq 'x').limit(2)"


def test_image_summaries(cat, product):
    sizes = []
    for day in (2, 3, 9):  # 2020-03-02 and -03 are in one ISO week (from Monday the 2nd), the 9th in the next
        image = new_image(name=f"d{day}", acquired=dt.date(2020, 3, day)).upload_ndarray(np.zeros((1, 8, 8), np.uint8))
        sizes.append(image.files[0]["size"])
    new_image(name="undated").save()
    summary = Image.search().limit(1).summary()  # the limit doesn't apply
    assert (summary.count, summary.bytes, summary.products) == (4, sum(sizes), ["org:my_product_id"])
    weeks = Image.search().summary_interval(interval="week")
    assert [(w.interval_start.date(), w.count, w.bytes) for w in weeks] == [
        (dt.date(2020, 3, 2), 2, sizes[0] + sizes[1]), (dt.date(2020, 3, 9), 1, sizes[2])]
    assert repr(weeks[1]).endswith(" - Interval start: 2020-03-09 00:00:00+00:00")
    quarters = Image.search().summary_interval(interval="quarter", end_datetime="2020-03-08")
    assert [(q.interval_start.date(), q.count) for q in quarters] == [(dt.date(2020, 1, 1), 2)]
    with pytest.raises(ValidationError, match=r"Unknown value 'published' for 'aggregate_date_field'; allowed"):
        Image.search().summary_interval(aggregate_date_field="published")
    with pytest.raises(ValidationError, match=r"Unknown value 'decade' for 'interval'"):
        Image.search().summary_interval(interval="decade")


def test_a_product_filter_reads_only_that_product(cat, product, monkeypatch):
    Product(id="org:other").save()
    new_image(name="x", product_id="org:other").save()
    read = []
    original = cat.catalog.list_images
    monkeypatch.setattr(cat.catalog, "list_images", lambda product_id: read.append(product_id) or original(product_id))
    assert [i.id for i in Image.search().filter((p.product_id == "org:other") & (p.name == "x"))] == ["org:other:x"]
    assert read == ["org:other"]
    read.clear()
    assert [i.id for i in Image.search().filter((p.product_id == "org:other") | (p.name == "x"))] == ["org:other:x"]
    assert sorted(read) == ["org:my_product_id", "org:other"]  # an "or" may match in any product
