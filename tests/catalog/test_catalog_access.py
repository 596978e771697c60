"""Access control: readers, writers, owners, group:public; refusals write nothing."""

from __future__ import annotations

import numpy as np
import pytest

from wf_widgets.catalog import Band, GenericBand, Image, Product
from wf_widgets.errors import PermissionDenied

from ._helpers import catalog_files, masked, new_image


@pytest.fixture
def uploaded(product):
    new_image().upload_ndarray(masked())
    return product


def test_private_product_is_unreadable_for_others(cat, as_user, uploaded):
    GenericBand(name="g", product_id=uploaded.id, data_type="Byte").save()
    with as_user("user:bob"):
        with pytest.raises(PermissionDenied, match="user:bob may not read product 'org:my_product_id': read access"):
            Product.get("org:my_product_id")
        with pytest.raises(PermissionDenied, match="user:bob may not read image 'org:my_product_id:my_image'"):
            Image.get("org:my_product_id:my_image")
        with pytest.raises(PermissionDenied, match="user:bob may not read band"):
            Band.get("org:my_product_id:g")
        with pytest.raises(PermissionDenied, match="list the images of"):
            Product(id="org:my_product_id").images()
        with pytest.raises(PermissionDenied, match="read image 'my_image'"):
            new_image().ndarray()
        assert "<img" not in new_image()._repr_html_()


def test_group_public_and_email_readers(cat, as_user, uploaded):
    with as_user("user:carol", email="carol@example.org"):
        with pytest.raises(PermissionDenied):
            Product.get(uploaded.id)
    uploaded.readers = ["email:carol@example.org"]
    uploaded.save()
    with as_user("user:carol", email="carol@example.org"):
        assert Product.get(uploaded.id).id == uploaded.id
    uploaded.readers = ["group:public"]
    uploaded.save()
    with as_user("user:bob"):
        product = Product.get(uploaded.id)
        [image] = product.images()
        assert image.ndarray().shape == (2, 64, 64)


def test_writing_without_rights_writes_nothing(cat, as_user, uploaded):
    uploaded.readers = ["group:public"]
    uploaded.save()
    before = catalog_files(cat)
    with as_user("user:bob"):
        message = r"user:bob may not upload image 'other' in product 'org:my_product_id': write access is missing"
        with pytest.raises(PermissionDenied, match=message):
            new_image("other").upload_ndarray(masked())
        with pytest.raises(PermissionDenied, match="write access is missing"):
            new_image("my_image").upload_ndarray(masked(), overwrite=True)
        with pytest.raises(PermissionDenied, match="save band 'b'"):
            GenericBand(name="b", product_id=uploaded.id, data_type="Byte").save()
        with pytest.raises(PermissionDenied, match="delete image"):
            Image.get("org:my_product_id:my_image").delete()
        with pytest.raises(PermissionDenied, match="may not change product.*own access"):
            p = Product.get(uploaded.id)
            p.readers = []
            p.save()
        with pytest.raises(PermissionDenied, match="may not delete product"):
            Product.get(uploaded.id).delete(cascade=True)
    assert catalog_files(cat) == before
    assert [i.name for i in uploaded.images()] == ["my_image"] and uploaded.bands() == []
    assert Product.get(uploaded.id).readers == ["group:public"]


def test_writers_may_add_images_and_bands_but_not_change_the_product(cat, as_user, uploaded):
    uploaded.writers = ["user:bob"]
    uploaded.save()
    with as_user("user:bob"):
        new_image("bobs").upload_ndarray(np.ones((2, 64, 64), np.uint8))
        GenericBand(name="b", product_id=uploaded.id, data_type="Byte").save()
        GenericBand(name="c", product_id=uploaded.id, data_type="Byte").save()
        product = Product.get(uploaded.id)
        product.name = "mine now"
        with pytest.raises(PermissionDenied, match="own access is missing.*owners"):
            product.save()
    assert [i.name for i in uploaded.images()] == ["bobs", "my_image"]


def test_owners_are_kept_and_others_can_be_added(cat, as_user):
    p = Product(id="org:shared", owners=["user:bob"]).save()
    assert p.owners == ["user:alice", "user:bob"]
    with as_user("user:bob"):
        q = Product.get("org:shared")
        q.description = "bob owns it too"
        q.save()
