"""Port of the original client's ``catalog/tests/test_attributes.py`` (v1.12.1).

Most of the file tests the original's private attribute framework (``Attribute``,
``TypedAttribute``, ``Timestamp``, ``EnumAttribute``, ``ListAttribute``,
``ExtraPropertiesAttribute``) on test-only classes (``FakeCatalogObject``, ``Mapping``,
``Nested``): those are skipped. The tests of the public ``Resolution`` are ported. The
behaviours the framework gave public fields (nested change tracking, checked list items,
equality, no hash, copies, read-only fields) are tested through ``Product``, the bands and
``Image`` in tests/catalog/test_catalog_compat.py.
"""

from __future__ import annotations

from copy import deepcopy

import pytest

from wf_widgets.catalog import AttributeValidationError, Resolution

PRIVATE = ("the original's private attribute framework (Attribute, TypedAttribute, Timestamp, EnumAttribute, "
           "ListAttribute, ExtraPropertiesAttribute, BandType) on test-only classes; the same behaviours of public "
           "fields are tested in tests/catalog/test_catalog_compat.py")


class TestAttributes:
    @pytest.mark.skip(reason=PRIVATE)
    def test_immutabletimestamp(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mutable_timestamp(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_datetime_invalid(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_enum_attribute(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_enum_attribute_invalid(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_enum_attribute_new(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_attributes(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_change_tracking(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_references(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_multiple_assignment(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_nested_change_tracking(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_serialization(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_deserialization(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_equality(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_mapping_hash(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_list_attributes(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_typed_list_attributes(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_listattribute_change_tracking(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_listattribute_deserialization(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_listattribute_container_methods(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_listattribute_delegate_methods(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_list_attribute_delegate_mutable_methods_simple_items(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_list_attribute_modification(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_list_attribute_delegate_mutable_methods_mapping_items(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_listattribute_extra_properties_attribute(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_del(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_set_immutable(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_set_mutable_and_immutable(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_set_readonly(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_set_writable_and_readonly(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_create_and_assign_property_attribute(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_model_for_property_attribute(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_create_bad_property_attribute(self):
        pass

    @pytest.mark.skip(reason=PRIVATE)
    def test_readonly_property_attribute(self):
        pass

    def test_deepcopy(self):
        r = Resolution(value=2, unit="meters")
        r_copy = deepcopy(r)
        assert r is not r_copy
        assert r == r_copy

        r.value = 0
        r_copy.value = 20
        assert r.value == 0
        assert r_copy.value == 20
        # the original's second half copied File records and a ListAttribute of them (files are read-only here)

    def test_create_non_attr(self):
        with pytest.raises(AttributeError):
            Resolution(value=2, bar="foo")

    def test_set_non_attr(self):
        r = Resolution()

        with pytest.raises(AttributeError):
            r.foo = "bad"

    def test_resolution_string(self):
        Resolution("60m")
        Resolution("-6.5 deg.")
        with pytest.raises(AttributeValidationError):
            Resolution("60")

        # the original also assigned "60  m." and "1.234 \u00b0" to a Resolution attribute of a test-only class
        assert Resolution("60  m.") == Resolution(value=60, unit="meters")
        assert Resolution("1.234 \u00b0").unit == "degrees"
        with pytest.raises(AttributeValidationError):
            Resolution("m")
