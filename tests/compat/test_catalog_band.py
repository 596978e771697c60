"""Port of the original client's ``catalog/tests/test_band.py`` (v1.12.1).

The original mocked the catalog's REST service; here the bands and products its mocked
responses described are saved in a real local catalog (org ``descarteslabs``), and the same
behaviour is checked through the public API. ``_saved=True`` objects of the original are
saved ones; resetting ``b._modified`` is a save. docs/compat.md lists the skipped tests.
"""

from __future__ import annotations

import textwrap

import pytest

from wf_widgets.catalog import (
    AttributeValidationError,
    Band,
    DataType,
    DerivedParamsAttribute,
    DocumentState,
    GenericBand,
    MaskBand,
    MicrowaveBand,
    ProcessingStepAttribute,
    Product,
    Properties,
    SpectralBand,
)
from wf_widgets.errors import NotFound

NO_DERIVED = "derived bands (DerivedBand) are not part of wf_widgets"


@pytest.fixture
def org(make_backend):
    """A catalog whose org (``WF_WIDGETS_ORG``) is the original tests' ``descarteslabs``."""
    return make_backend(org="descarteslabs")


class TestBand:
    def test_create(self, org):
        s = SpectralBand(name="test", product_id="foo", physical_range=[0, 1], wavelength_nm_max=1200)
        assert "foo:test" == s.id
        assert "spectral" == s.type
        assert 1200 == s.wavelength_nm_max
        assert (0.0, 1.0) == s.physical_range
        with pytest.raises(AttributeError):
            s.frequency  # Attribute from a different band type

        s = SpectralBand(name="test", product=Product(id="foo").save())  # the original's _saved=True
        # the saved product's id has its org: "foo" is "descarteslabs:foo"
        assert "descarteslabs:foo:test" == s.id
        assert "descarteslabs:foo" == s.product_id

        with pytest.raises(AttributeValidationError):
            s = SpectralBand(id="someid", name="test", product_id="foo")

        with pytest.raises(AttributeValidationError):
            SpectralBand(name="test", product_id="foo", product=Product(id="bar").save())

    def test_constructor_no_id(self, org):
        s = SpectralBand()
        s.name = "test"
        s.product_id = "foo"
        assert "foo:test" == s.id
        assert "test" == s.name
        assert "foo" == s.product_id

    def test_constructor_no_name_and_product_id(self, org):
        s = SpectralBand()
        s.id = "foo:test"
        assert "foo:test" == s.id
        assert "test" == s.name
        assert "foo" == s.product_id

    def test_constructor_bad_id(self, org):
        with pytest.raises(AttributeValidationError):
            s = SpectralBand()
            s.id = "foo"

    @pytest.mark.skip(reason="private: _get_attribute_type (the original's attribute descriptors)")
    def test_set_id_using_type(self):
        pass

    def test_get_subtype(self, org, monkeypatch):
        import datetime as dt

        fixed = dt.datetime(2019, 6, 11, 23, 31, 33, 714883, tzinfo=dt.timezone.utc)
        monkeypatch.setattr(org.settings, "now", lambda: fixed)
        Product(id="p1", name="P1").save()
        SpectralBand(name="blue", product_id="p1", data_type="UInt16", physical_range=[0.0, 1.0],
                     wavelength_nm_min=2000).save()

        b = Band.get("p1:blue")
        assert isinstance(b, SpectralBand)
        assert (0.0, 1.0) == b.physical_range
        assert 2000 == b.wavelength_nm_min
        assert "P1" == b.product.name

        b_repr = repr(b)
        match_str = """\
            SpectralBand: blue
              id: p1:blue
              product: p1
              created: Tue Jun 11 23:31:33 2019"""
        # ids carry their org once saved (the original's mocked service answered "p1")
        assert b_repr.strip("\n") == textwrap.dedent(match_str).replace("p1", "descarteslabs:p1")

        b = SpectralBand.get("p1:blue")
        assert isinstance(b, SpectralBand)
        assert 2000 == b.wavelength_nm_min

    def test_list_subtype(self, org):
        Product(id="p1").save()
        SpectralBand(name="blue", product_id="p1", data_type="UInt16", wavelength_nm_min=2000).save()
        MaskBand(name="alpha", product_id="p1").save()
        Product(id="p2").save()
        SpectralBand(name="red", product_id="p2", data_type="UInt16").save()

        results = list(Band.search().filter(Properties().product_id == "p1"))
        assert 2 == len(results)
        assert isinstance(results[0], SpectralBand)
        assert isinstance(results[1], MaskBand)

    def test_vendor_band_name(self, org):
        s = SpectralBand(name="test", product_id="foo")
        assert s.vendor_band_name is None

        s = SpectralBand(name="test", product_id="foo", vendor_band_name=None)
        assert s.vendor_band_name is None

        s = SpectralBand(name="test", product_id="foo", vendor_band_name="some_band")
        assert "some_band" == s.vendor_band_name

    def test_search(self, org):
        Product(id="p1").save()
        SpectralBand(name="blue", product_id="p1", data_type="UInt16").save()
        MaskBand(name="alpha", product_id="p1").save()
        # the original checked the private _filter_properties (None) and _serialize_filters (type eq mask)
        search = Band.search()
        assert [b.name for b in search] == ["blue", "alpha"]

        search = MaskBand.search()
        assert [b.type for b in search] == ["mask"]

    def test_instantiate_band(self, org):
        with pytest.raises(TypeError):
            Band(name="test", product_id="foo", wavelength_nm_max=1200)

    def test_id(self, org):
        product_id = "some_product_id"
        band_name = "some_band_name"
        id = "{}:{}".format(product_id, band_name)

        # All successful permutations for id, product_id, and name
        b = SpectralBand(id=id)
        assert b.id == id
        assert b.product_id == product_id
        assert b.name == band_name

        b = SpectralBand(id=id, name=band_name)
        assert b.id == id
        assert b.product_id == product_id
        assert b.name == band_name

        b = SpectralBand(id=id, product_id=product_id)
        assert b.id == id
        assert b.product_id == product_id
        assert b.name == band_name

        b = SpectralBand(product_id=product_id, name=band_name)
        assert b.id == id
        assert b.product_id == product_id
        assert b.name == band_name

        b = SpectralBand(id=id, product_id=product_id, name=band_name)
        assert b.id == id
        assert b.product_id == product_id
        assert b.name == band_name

        # Verify failures
        with pytest.raises(AttributeValidationError):
            b = SpectralBand(id=id, product_id="foo")

        with pytest.raises(AttributeValidationError):
            b = SpectralBand(id=id, name="foo")

        with pytest.raises(AttributeValidationError):
            b = SpectralBand(id=id, product_id="foo", name="foo")

        with pytest.raises(AttributeValidationError):
            b = SpectralBand(id=band_name, product_id="foo", name="foo")

        with pytest.raises(AttributeValidationError):
            b = SpectralBand(id=band_name)

        with pytest.raises(AttributeValidationError):
            b = SpectralBand(id=band_name, name=band_name)

        with pytest.raises(AttributeValidationError):
            b = SpectralBand(id=band_name, product_id=product_id, name="foo")

    @pytest.mark.skip(reason="deliberate difference: a name has no ':' (it separates the parts of ids); "
                             "the original kept the names of its V1 catalog that had one (docs/compat.md)")
    def test_name_with_colon(self):
        pass

    def test_processing_levels_create(self, org):
        band_id = "some_product_id:band"

        b = SpectralBand(id=band_id)
        assert b.processing_levels is None

        b = SpectralBand(id=band_id, processing_levels={"default": "toa", "toa": []})
        assert b.processing_levels == {"default": "toa", "toa": []}

        b = SpectralBand(
            id=band_id,
            processing_levels={
                "default": "toa_reflectance",
                "toa_reflectance": [{"function": "fun", "parameter": "param", "index": 0}],
            },
        )
        assert b.processing_levels == {
            "default": "toa_reflectance",
            "toa_reflectance": [ProcessingStepAttribute(function="fun", parameter="param", index=0)],
        }

        b = SpectralBand(
            id=band_id,
            processing_levels={
                "default": "toa_reflectance",
                "toa_reflectance": [
                    {
                        "function": "fun",
                        "parameter": "param",
                        "index": 0,
                        "data_type": "Float64",
                        "data_range": [0, 1],
                        "display_range": [0, 0.4],
                        "physical_range": [0, 1],
                        "physical_range_unit": "reflectance",
                    }
                ],
            },
        )
        assert b.processing_levels == {
            "default": "toa_reflectance",
            "toa_reflectance": [
                ProcessingStepAttribute(
                    function="fun",
                    parameter="param",
                    index=0,
                    data_type=DataType("Float64"),
                    data_range=(0.0, 1.0),
                    display_range=(0, 0.4),
                    physical_range=(0.0, 1.0),
                    physical_range_unit="reflectance",
                )
            ],
        }

        with pytest.raises(AttributeValidationError):
            SpectralBand(id=band_id, processing_levels={"default": 1})

        with pytest.raises(AttributeValidationError):
            SpectralBand(id=band_id, processing_levels=[])

        with pytest.raises(AttributeValidationError):
            SpectralBand(id=band_id, processing_levels={"default": "toa", "toa": ["string"]})

        with pytest.raises(AttributeValidationError):
            SpectralBand(
                id=band_id,
                processing_levels={
                    "default": "toa_reflectance",
                    "toa_reflectance": [{"function": "fun", "parameter": "param", "index": "foo"}],
                },
            )

        with pytest.raises(AttributeValidationError):
            SpectralBand(
                id=band_id,
                processing_levels={
                    "default": "toa_reflectance",
                    "toa_reflectance": [{"function": "fun", "parameter": "param", "index": 0, "foo": "bar"}],
                },
            )

    def test_processing_levels_modified(self, org):
        Product(id="some_product_id").save()
        band_id = "some_product_id:band"
        pl = {
            "default": "surface_reflectance",
            "surface_reflectance": [{"function": "gain_bias", "parameter": "reflectance_gain_bias", "index": 0}],
        }
        b = SpectralBand(id=band_id, processing_levels=pl, data_type="UInt16").save()  # the original's _saved=True

        assert b.state == DocumentState.SAVED

        b.processing_levels["surface_reflectance"][0].index = 1
        assert b.state == DocumentState.MODIFIED

        # reset modified state
        b.save()
        assert b.state == DocumentState.SAVED

        b.processing_levels["surface_reflectance"].append(
            {"function": "gain_bias", "parameter": "reflectance_gain_bias", "index": 2}
        )
        assert b.state == DocumentState.MODIFIED

    def test_processing_levels_io(self, org):
        Product(id="some_product_id").save()
        band_id = "some_product_id:band"
        pl = {
            "default": "surface_reflectance",
            "surface_reflectance": [{"function": "gain_bias", "parameter": "reflectance_gain_bias", "index": 0}],
        }

        b = SpectralBand(id=band_id, processing_levels=pl, data_type="UInt16")
        assert isinstance(b.processing_levels["surface_reflectance"][0], ProcessingStepAttribute)
        b.save()
        assert isinstance(b.processing_levels["surface_reflectance"][0], ProcessingStepAttribute)
        # the original checked the request body; here the stored band reads back the same
        assert SpectralBand.get(b.id).processing_levels == pl

    def test_derived_params_create(self, org):
        band_id = "some_product_id:band"

        b = SpectralBand(id=band_id)
        assert b.derived_params is None

        b = SpectralBand(id=band_id, derived_params=None)
        assert b.derived_params is None

        b = SpectralBand(id=band_id, derived_params={"function": "function", "bands": ["band"]})
        assert b.derived_params == DerivedParamsAttribute(function="function", bands=["band"])

        b = SpectralBand(
            id=band_id,
            derived_params={"function": "function", "bands": ["band"], "source_type": "UInt16"},
        )
        assert b.derived_params == DerivedParamsAttribute(function="function", bands=["band"], source_type="UInt16")

        with pytest.raises(AttributeValidationError):
            SpectralBand(id=band_id, derived_params={})

        with pytest.raises(AttributeValidationError):
            SpectralBand(id=band_id, derived_params={"function": 1, "bands": ["band"]})

        with pytest.raises(AttributeValidationError):
            SpectralBand(id=band_id, derived_params={"function": "function", "bands": [1]})

        with pytest.raises(AttributeValidationError):
            SpectralBand(
                id=band_id,
                derived_params={"function": "function", "bands": ["band"], "source_type": "not a data type"},
            )

    def test_derived_params_modified(self, org):
        Product(id="some_product_id").save()
        band_id = "some_product_id:band"
        dp = {"function": "function", "bands": ["band"], "source_type": "UInt16"}
        b = SpectralBand(id=band_id, derived_params=dp, data_type="UInt16").save()  # the original's _saved=True

        assert b.state == DocumentState.SAVED

        b.derived_params.source_type = "UInt32"
        assert b.state == DocumentState.MODIFIED

        # reset modified state
        b.save()
        assert b.state == DocumentState.SAVED

        b.derived_params.bands.append("band2")
        assert b.state == DocumentState.MODIFIED

    def test_derived_params_io(self, org):
        Product(id="some_product_id").save()
        band_id = "some_product_id:band"
        dp = {"function": "function", "bands": ["band"], "source_type": "UInt16"}

        b = SpectralBand(id=band_id, derived_params=dp, data_type="UInt16")
        assert isinstance(b.derived_params, DerivedParamsAttribute)
        b.save()
        assert isinstance(b.derived_params, DerivedParamsAttribute)
        # the original checked the request body; here the stored band reads back the same
        assert SpectralBand.get(b.id).derived_params.to_dict() == dp


class TestDerivedBand:
    @pytest.mark.skip(reason=NO_DERIVED)
    def test_invalid_ops(self):
        pass

    @pytest.mark.skip(reason=NO_DERIVED)
    def test_get(self):
        pass

    @pytest.mark.skip(reason=NO_DERIVED)
    def test_list(self):
        pass

    def test_related_product(self, org):
        Product(id="p1", name="Test Product").save()
        b = SpectralBand(name="b1", product_id="p1", data_type="UInt16").save()  # the original's _saved=True
        p = b.product
        assert p.id == "descarteslabs:p1"  # "p1" with its org
        b.reload()

    def test_make_valid_name(self):
        name = "This is ań @#$^*% ïñvalid name!!!!"
        valid_name = Band.make_valid_name(name)
        assert valid_name == "This_is_a_valid_name_"

    def test_get_incorrect_band_type(self, org):
        Product(id="p1").save()
        SpectralBand(name="b1", product_id="p1", data_type="UInt16").save()
        assert MaskBand.get("p1:b1") is None
        assert SpectralBand.get("p1:b1") is not None
        assert Band.get("p1:b1") is not None

    def test_get_many_incorrect_band_type(self, org):
        Product(id="p1").save()
        SpectralBand(name="b1", product_id="p1", data_type="UInt16").save()
        SpectralBand(name="b2", product_id="p1", data_type="UInt16").save()
        MaskBand(name="b3", product_id="p1").save()
        MicrowaveBand(name="b4", product_id="p1", data_type="Float32").save()
        all_bands = ["p1:b1", "p1:b2", "p1:b3", "p1:b4"]
        more_bands = ["p1:b1", "p1:b2", "p1:b3", "p1:b4", "p1:b5"]

        assert len(MaskBand.get_many(all_bands)) == 1
        assert len(GenericBand.get_many(all_bands)) == 0
        assert len(SpectralBand.get_many(all_bands)) == 2
        assert len(Band.get_many(all_bands)) == 4

        with pytest.raises(NotFound):  # the original's NotFoundError
            GenericBand.get_many(more_bands)

        assert len(GenericBand.get_many(more_bands, ignore_missing=True)) == 0
        assert len(MicrowaveBand.get_many(more_bands, ignore_missing=True)) == 1
        assert len(Band.get_many(more_bands, ignore_missing=True)) == 4
