"""Bands and data types."""

from __future__ import annotations

import numpy as np
import pytest

from wf_widgets.catalog import Band, ClassBand, DataType, GenericBand, MaskBand, MicrowaveBand, Product, SpectralBand
from wf_widgets.errors import NotFound, ValidationError


def test_data_types_map_to_numpy_and_have_ranges():
    assert [d.value for d in DataType] == ["Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"]
    assert DataType.Byte.dtype == np.uint8 and DataType.Byte.range == (0, 255)
    assert DataType.Int16.range == (-32768, 32767)
    assert DataType.Float32.range[1] == pytest.approx(3.4028234663852886e38)
    assert DataType("uint16") is DataType.UInt16 is DataType.coerce(np.dtype("uint16"))
    assert DataType.coerce("FLOAT64") is DataType.Float64
    with pytest.raises(ValidationError, match="Unknown data type 'int8'.*'Byte'"):
        DataType.coerce("int8")


def test_spectral_band_defaults_and_round_trip(product):
    b = SpectralBand(name="red", product_id=product.id, data_type="UInt16", nodata=0,
                     physical_range=(0, 1), wavelength_nm_center=665, wavelength_nm_fwhm=30, resolution=10)
    assert b.id == "org:my_product_id:red" and b.type == "spectral"
    b.save()
    assert b.data_range == (0, 65535) and b.display_range == (0, 65535) and b.band_index == 0
    got = Band.get(b.id)
    assert type(got) is SpectralBand and got == b
    assert got.wavelength_nm_center == 665 and got.physical_range == (0, 1) and got.data_type is DataType.UInt16


def test_band_types_and_order(product):
    GenericBand(name="g", product_id=product.id, data_type="Float32", band_index=3).save()
    MicrowaveBand(name="vv", product_id=product.id, data_type="Float32", band_index=0, frequency=5.4).save()
    ClassBand(name="cls", product_id=product.id, data_type="Byte", class_labels=["water", "land"]).save()
    MaskBand(name="alpha", product_id=product.id, is_alpha=True).save()
    bands = product.bands()
    assert [(b.name, b.band_index, type(b).__name__) for b in bands] == [
        ("vv", 0, "MicrowaveBand"), ("g", 3, "GenericBand"), ("cls", 4, "ClassBand"), ("alpha", 5, "MaskBand"),
    ]
    assert bands[2].class_labels == ["water", "land"] and bands[1].physical_range is None
    alpha = bands[3]
    assert alpha.is_alpha is True and alpha.data_range == (0, 1) and alpha.data_type is DataType.Byte


def test_mask_band_data_range_is_fixed(product):
    with pytest.raises(ValidationError, match=r"always \(0, 1\)"):
        MaskBand(name="m", product_id=product.id, data_range=(0, 255))
    m = MaskBand(name="m", product_id=product.id, data_range=[0, 1])
    assert m.data_range == (0, 1)


def test_band_checks(product):
    with pytest.raises(ValidationError, match="Unknown data type None for 'data_type'"):
        SpectralBand(name="x", product_id=product.id).save()
    with pytest.raises(ValidationError, match="nodata -1 does not fit the data type Byte"):
        GenericBand(name="x", product_id=product.id, data_type="Byte", nodata=-1).save()
    with pytest.raises(ValidationError, match="low < high"):
        GenericBand(name="x", product_id=product.id, data_range=(5, 1))
    with pytest.raises(ValidationError, match="without ':'"):
        GenericBand(name="a:b", product_id=product.id)
    with pytest.raises(TypeError, match="abstract"):
        Band(name="x", product_id=product.id)
    with pytest.raises(TypeError, match="unexpected keyword argument.*is_alpha"):
        GenericBand(name="x", product_id=product.id, is_alpha=True)
    assert product.bands() == []


def test_band_conflict_update_and_delete(product):
    SpectralBand(name="b", product_id=product.id, data_type="Byte").save()
    with pytest.raises(ValidationError, match="already exists"):
        SpectralBand(name="b", product_id=product.id, data_type="Byte").save()
    b = Band.get("org:my_product_id:b")
    b.nodata = 255
    b.save()
    assert Band.get(b.id).nodata == 255
    b.delete()
    assert Band.get(b.id) is None and product.bands() == []
    with pytest.raises(NotFound, match="was deleted; it can't be deleted"):
        b.delete()


def test_band_of_a_missing_product(cat):
    with pytest.raises(NotFound, match="Product 'org:none' does not exist"):
        SpectralBand(name="b", product_id="org:none", data_type="Byte").save()
    assert Product.get("org:none") is None


def test_a_band_name_too_long_is_refused(product):
    name = "名" * 100  # 300 bytes in UTF-8
    with pytest.raises(ValidationError, match=r"name is too long: 300 bytes in UTF-8 \(100 characters\); "
                                              r"the limit is 255 bytes") as info:
        GenericBand(name=name, product_id=product.id, data_type="Float64")
    assert (info.value.field, info.value.value) == ("name", name)
    band = GenericBand(name="é" * 127, product_id=product.id, data_type="Float64").save()  # 254 bytes
    assert Band.get(band.id).name == "é" * 127


def test_get_or_create_runs_the_same_setup_any_number_of_times(product):
    def setup() -> list[str]:
        states = []
        for i, name in enumerate(["vv", "vh"]):
            band = MicrowaveBand.get_or_create(name=name, product_id=product.id, data_type="Float32",
                                               nodata=-9999.0, band_index=i)
            states.append(band.state)
            band.save()
        return states

    assert setup() == ["unsaved", "unsaved"]
    assert setup() == ["saved", "saved"]  # stored as asked: nothing to change, save() again is fine
    assert [(b.name, b.band_index, b.nodata) for b in product.bands()] == [("vv", 0, -9999.0), ("vh", 1, -9999.0)]


def test_get_or_create_by_id_applies_changes_without_saving(product):
    MicrowaveBand(name="vv", product_id=product.id, data_type="Float32", nodata=0).save()
    band = MicrowaveBand.get_or_create(f"{product.id}:vv", nodata=-1, data_type="float32")
    assert band.state == "modified" and band.nodata == -1
    assert Band.get(band.id).nodata == 0  # nothing saved yet
    band.save()
    assert Band.get(band.id).nodata == -1 and band.state == "saved"
    same = Band.get_or_create(name="vv", product_id=product.id)  # the base class finds any type
    assert type(same) is MicrowaveBand and same.state == "saved"


def test_get_or_create_errors(product):
    SpectralBand(name="red", product_id=product.id, data_type="UInt16").save()
    with pytest.raises(ValidationError, match="exists as a SpectralBand, not a MicrowaveBand") as info:
        MicrowaveBand.get_or_create(name="red", product_id=product.id)
    assert info.value.field == "type"
    with pytest.raises(ValidationError, match="needs an id.*or both name= and product_id="):
        SpectralBand.get_or_create(name="red")
    with pytest.raises(ValidationError, match="name 'blue' disagrees with the id"):
        SpectralBand.get_or_create(f"{product.id}:red", name="blue")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        SpectralBand.get_or_create(name="red", product_id=product.id, colour="red")
    with pytest.raises(ValidationError, match="name must be"):
        SpectralBand.get_or_create(name="a:b", product_id=product.id)
