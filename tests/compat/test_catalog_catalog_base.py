"""Port of the original client's ``catalog/tests/test_catalog_base.py`` (v1.12.1).

The original tested its base class through a test-only subclass ``Foo`` (an id, the base's
``tags`` and ``extra_properties``, and one field ``bar``) against a mocked REST service. Here
``Product`` stands for ``Foo`` and for the base ``CatalogObject`` (it has the same base
fields; ``description`` stands for ``bar``), saved in a real local catalog. docs/compat.md
lists what was left out.
"""

from __future__ import annotations

import pytest

from wf_widgets.catalog import (
    AttributeValidationError,
    DeletedObjectError,
    DocumentState,
    GenericBand,
    Product,
    SpectralBand,
    UnsavedObjectError,
)
from wf_widgets.errors import NotFound, ValidationError

Foo = Product
CatalogObject = Product
NOT_PUBLIC = "CatalogObject and NamedCatalogObject (the abstract bases) are not public in wf_widgets"
REST = "the REST request body (serialize(), request_params) of a save"


@pytest.fixture(autouse=True)
def org(make_backend):
    """A catalog whose org (``WF_WIDGETS_ORG``) is the original tests' ``descarteslabs``."""
    return make_backend(org="descarteslabs")


class TestCatalogObject:
    @pytest.mark.skip(reason=NOT_PUBLIC)
    def test_abstract_class(self):
        pass

    @pytest.mark.skip(reason=NOT_PUBLIC)
    def test_abstract_class_methods(self):
        pass

    def test_constructor(self):
        c = CatalogObject(id="id")
        # the original listed its private _attribute_types; the same fields are readable here
        for name in ("id", "created", "modified", "extra_properties", "tags"):
            getattr(c, name)
        assert c.is_modified

    def test_constructor_no_id(self):
        c = CatalogObject()
        assert c.id is None
        c.id = "id"
        assert "id" == c.id
        assert c.is_modified

        with pytest.raises(AttributeValidationError):
            c.id = "oh no"

    def test_set_get(self):
        c = CatalogObject(id="id").save()  # the original's CatalogObject(id={}): an object not modified
        assert not c.is_modified

        c.tags = ["foo", "bar"]
        assert c.tags == ["foo", "bar"]
        assert c.is_modified

    def test_create_non_attr(self):
        with pytest.raises(AttributeError):
            CatalogObject(foo="bad")

    def test_set_non_attr(self):
        c = CatalogObject(id="id")

        with pytest.raises(AttributeError):
            c.foo = "bad"

    @pytest.mark.skip(reason=REST)
    def test_serialize(self):
        pass

    def test_clear_modified_attributes(self):
        c = CatalogObject(id="id", tags=["foo", "bar"]).save()  # the original's _saved=True
        assert not c.is_modified
        c.tags = ["baz"]
        assert c.is_modified
        # the original checked serialize(modified_only=True) and called the private _clear_modified_attributes
        c.save()
        assert not c.is_modified

    def test_list_properties(self):
        c = CatalogObject(id="foo1", tags=["something"]).save()
        assert not c.is_modified

        c.tags.append("nothing")

        assert c.is_modified
        c.save()  # the original checked the request body
        assert Product.get(c.id).tags == ["something", "nothing"]

    def test_get(self):
        Foo(id="foo1", description="baz").save()
        foo = Foo.get("foo1")
        assert foo is not None
        assert foo.id == "descarteslabs:foo1"  # "foo1" with its org
        assert foo.description == "baz"
        assert foo.state == DocumentState.SAVED

    def test_get_many(self):
        Foo(id="p1:foo", description="baz").save()
        Foo(id="p1:bar", description="qux").save()
        with pytest.raises(NotFound):  # the original's NotFoundError
            Foo.get_many(["p1:foo", "p1:bar", "p1:missing"])

        foos = Foo.get_many(["p1:foo", "p1:bar", "p1:missing"], ignore_missing=True)
        assert ["p1:foo", "p1:bar"] == [f.id for f in foos]
        assert ["baz", "qux"] == [f.description for f in foos]

    def test_reload(self):
        Foo(id="foo1", description="baz").save()
        foo = Foo.get("foo1")
        assert foo is not None
        assert foo.description == "baz"
        assert foo.state == DocumentState.SAVED

        elsewhere = Foo.get("foo1")  # the original's second mocked answer: the stored value changed
        elsewhere.description = "qux"
        elsewhere.save()

        foo.reload()
        assert foo.id == "descarteslabs:foo1"
        assert foo.description == "qux"
        assert foo.state == DocumentState.SAVED

    @pytest.mark.skip(reason=REST)
    def test_save_request_params(self):
        pass

    @pytest.mark.skip(reason=REST)
    def test_save_update_request_params(self):
        pass

    def test_equality(self):
        assert Foo(id="foo2") != Foo(id="foo1")
        # the original compared its base class with Foo: two classes with the same fields
        assert SpectralBand(id="p:foo") != GenericBand(id="p:foo")
        assert Foo(id="foo") != Foo(id="foo").save()

        foo1 = Foo(id="foo")
        foo2 = Foo(id="foo")
        assert foo1 == foo2

        foo2.description = "bar"
        assert foo1 != foo2
        assert foo2 != foo1
        # the original's second half compared objects holding references (CatalogObjectReference, private)

    def test_hash(self):
        with pytest.raises(TypeError):
            hash(Foo(id="foo"))

    def test_delete_classmethod_notfound(self):
        assert not Foo.delete("nerp")

    def test_delete_classmethod_conflict(self):
        foo = Foo(id="nerp").save()
        SpectralBand(product=foo, name="b", data_type="Byte").save()
        with pytest.raises(ValidationError, match="cascade=True"):  # the original's ConflictError
            Foo.delete("nerp")

    def test_delete_classmethod(self):
        Foo(id="nerp").save()
        assert Foo.delete("nerp")

    def test_delete_instancemethod(self):
        instance = Foo(id="nerp").save()
        instance.delete()
        assert instance.state == DocumentState.DELETED
        assert "* Deleted" in repr(instance)

    def test_delete_not_saved(self):
        foo = Foo(id="nerp")
        with pytest.raises(UnsavedObjectError):
            foo.delete()

    def test_delete_instancemethod_notfound(self):
        foo = Foo(id="nerp").save()
        Foo.delete("nerp")  # the original's service didn't have it
        assert foo.state == DocumentState.SAVED
        with pytest.raises(DeletedObjectError):
            foo.delete()
        assert foo.state == DocumentState.DELETED

    def test_prevent_operations_after_delete(self):
        instance = Foo(id="merp").save()
        instance.delete()

        with pytest.raises(DeletedObjectError):
            instance.reload()

    def test_update(self):
        c = CatalogObject()
        assert not c.is_modified
        assert c.state == DocumentState.UNSAVED

        c.update(tags=["tag"])
        assert c.tags == ["tag"]
        assert c.is_modified

    def test_update_immutable_attr(self):
        c = CatalogObject(id="id").save()  # created is set by the catalog (the original's created=timestamp)
        timestamp = c.created
        assert not c.is_modified
        assert c.state == DocumentState.SAVED

        with pytest.raises(AttributeValidationError):
            c.update(created=["created"])

        assert c.created == timestamp
        assert not c.is_modified
        assert c.state == DocumentState.SAVED

    def test_update_non_attr(self):
        c = CatalogObject()
        assert not c.is_modified

        with pytest.raises(AttributeError):
            c.update(tags=["foo"], foo=["bar"])

        assert c.tags is None
        with pytest.raises(AttributeError):
            c.foo  # noqa: B018
        assert not c.is_modified

    def test_update_bad_value(self):
        c = CatalogObject(id="id")
        assert c.is_modified  # the original: c._modified == {"id"}

        with pytest.raises(AttributeValidationError):
            c.update(tags=123)

        assert c.id == "id"
        assert c.tags is None

    def test_update_ignore_errors(self):
        c = CatalogObject(id="id")

        c.update(tags=123, ignore_errors=True)
        assert c.id == "id"
        assert c.tags is None

    def test_update_deleted_object(self):
        c = Foo(id="id").save()
        c.delete()

        with pytest.raises(DeletedObjectError):
            c.update(tags=["foo"])

    @pytest.mark.skip(reason="the service's error messages, rewritten by the original client (a local catalog "
                             "raises its own errors, naming the field)")
    def test_rewritten_errors(self):
        pass

    def test_update_no_changes(self):
        c = CatalogObject(id="id", tags=["tag"]).save()
        assert not c.is_modified

        c.update(tags=["tag"])
        assert not c.is_modified

    def test_get_or_create(self):
        foo = Foo.get("foo1")
        assert foo is None

        foo = Foo.get_or_create("foo1", description="baz")
        assert foo is not None
        assert foo.id == "foo1"
        assert foo.description == "baz"
        assert foo.state == DocumentState.UNSAVED

    def test_deleted_notfound(self):
        instance = Foo(id="foo").save()
        Foo.delete("foo")  # the original's service answered 404
        instance.description = "something"

        with pytest.raises(DeletedObjectError):
            instance.save()
        assert instance.state == DocumentState.DELETED

        Foo(id="foo").save()
        instance = Foo.get("foo")
        Foo.delete("foo")

        with pytest.raises(DeletedObjectError):
            instance.reload()
        assert instance.state == DocumentState.DELETED

