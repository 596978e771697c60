"""Port of the original client's ``catalog/tests/test_image.py`` (v1.12.1).

The original mocked the catalog's REST service, its upload service and the Raster API; here
the images its mocked responses described are saved in a real local catalog (org
``descarteslabs``) and checked through the public API. docs/compat.md lists the skipped tests.
"""

from __future__ import annotations

import datetime
import textwrap

import numpy as np
import pytest
import shapely.geometry

from wf_widgets.catalog import AttributeValidationError, Image, Product, Properties, SpectralBand
from wf_widgets.geo import AOI  # the original's descarteslabs.common.geo.AOI

RASTER_API = ("reads through the Descartes Labs Raster API (bands by name, resolution, mask_alpha/mask_nodata, "
              "scaling): a local Image reads its stored file with image.ndarray(max_size=...)")
UPLOAD_SERVICE = ("the upload service of Descartes Labs (ImageUpload records, polling, upload options, several "
                  "files or arrays per image): a local upload writes one COG and saves the image, or raises")
GEOTRANS = (258292.5, 15.0, 0.0, 4743307.5, 0.0, -15.0)


@pytest.fixture
def org(make_backend):
    """A catalog whose org (``WF_WIDGETS_ORG``) is the original tests' ``descarteslabs``."""
    return make_backend(org="descarteslabs")


class TestImage:
    geometry = {
        "type": "Polygon",
        "coordinates": [
            [
                [-95.2989209, 42.7999878],
                [-93.1167728, 42.3858464],
                [-93.7138666, 40.703737],
                [-95.8364984, 41.1150618],
                [-95.2989209, 42.7999878],
            ]
        ],
    }

    def test_get(self, org, monkeypatch):
        fixed = datetime.datetime(2019, 6, 11, 23, 31, 33, 714883, tzinfo=datetime.timezone.utc)
        monkeypatch.setattr(org.settings, "now", lambda: fixed)
        Product(id="p1", name="A product").save()
        SpectralBand(name="myband", product_id="p1", data_type="UInt16",
                     resolution={"value": 30, "unit": "meters"}).save()
        Image(name="myimage", product_id="p1", geometry=self.geometry, x_pixels=15696, y_pixels=15960,
              geotrans=GEOTRANS, cs_code="EPSG:32615").save()

        i = Image.get("p1:myimage")
        assert "descarteslabs:p1" == i.product.id  # "p1" with its org
        assert shapely.geometry.shape(self.geometry) == i.geometry

        i_repr = repr(i)
        match_str = """\
            Image: myimage
              id: p1:myimage
              product: p1
              created: Tue Jun 11 23:31:33 2019"""  # noqa
        # ids carry their org once saved (the original's mocked service answered "p1")
        assert i_repr.strip("\n") == textwrap.dedent(match_str).replace("p1", "descarteslabs:p1")

        assert isinstance(i.geocontext, AOI)
        # avoid differences between tuples and lists
        assert shapely.geometry.shape(i.__geo_interface__) == shapely.geometry.shape(self.geometry)

    def test_set_geometry(self, org):
        shape = shapely.geometry.shape(self.geometry)
        i = Image(name="myimage", product_id="p1")
        i.geometry = self.geometry
        assert shape == i.geometry

        i.geometry = shape
        assert shape == i.geometry

        with pytest.raises(AttributeValidationError):
            i.geometry = {"type": "Polygon"}
        with pytest.raises(AttributeValidationError):
            i.geometry = 2

    def test_serialize_geometry(self, org):
        i = Image(name="myimage", product_id="p1", geometry=self.geometry)
        # serialize() was the REST request body; to_dict() is the JSON form of the object
        assert shapely.geometry.mapping(i.geometry) == shapely.geometry.shape(i.to_dict()["geometry"]).__geo_interface__

    @pytest.mark.skip(reason="the geocontext of an image without a complete grid is an incomplete AOI "
                             "(AOI(bounds_crs=None, align_pixels=False)): that AOI comes with the geography compat "
                             "of issue 14 (merged on main separately); here Image.geocontext needs cs_code, "
                             "geotrans, x_pixels and y_pixels (tests/catalog/test_catalog_compat.py)")
    def test_geocontext(self):
        pass

    def test_nanosecond_timestamp(self, org):
        Product(id="p1", name="A product").save()
        Image(name="myimage", product_id="p1", geometry=self.geometry, acquired="2019-08-20T08:08:16.123456789Z").save()

        i = Image.get("p1:myimage")
        assert (
            datetime.datetime.strptime("2019-08-20T08:08:16.123456Z", "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc)
            == i.acquired
        )

    def test_search_intersects(self, org):
        Product(id="p1").save()
        Product(id="p2").save()
        Image(name="here", product_id="p1", geometry=self.geometry).save()
        Image(name="there", product_id="p2", geometry=self.geometry).save()
        Image(name="away", product_id="p1", geometry=shapely.geometry.box(0, 0, 1, 1)).save()
        search = Image.search().intersects(self.geometry).filter(Properties().product_id == "p1")
        # the original checked the request (search._to_request(), private); here, what it finds
        assert [i.name for i in search] == ["here"]

    @pytest.mark.skip(reason="an image's files are set by its upload and read-only (files under the catalog's "
                             "folder); the original's files were editable records of files in cloud storage")
    def test_files_attribute(self):
        pass

    @pytest.mark.skip(reason=UPLOAD_SERVICE)
    def test_upload(self):
        pass

    @pytest.mark.skip(reason=UPLOAD_SERVICE)
    def test_upload_multi_file(self):
        pass

    @pytest.mark.skip(reason=UPLOAD_SERVICE + "; upload warnings are those of the service")
    def test_upload_warnings(self):
        pass

    @pytest.mark.skip(reason=UPLOAD_SERVICE)
    def test_upload_ndarray(self):
        pass

    def test_upload_ndarray_dtype(self, org):
        p = Product(id="p1", name="Test Product").save()  # the original's _saved=True
        # the original's geotrans [42, 0, 0, 0, 0, 0] and projection "foo" were never checked (the upload was
        # mocked); wf_widgets checks them when set, so the image has a valid grid
        image = Image(id="p1:image", product=p, acquired="2012-05-06", geotrans=GEOTRANS, cs_code="EPSG:32615")

        pytest.raises(ValueError, image.upload_ndarray, np.zeros((1, 100, 100), np.int8))
        pytest.raises(ValueError, image.upload_ndarray, np.zeros((1, 100, 100), np.int64))
        pytest.raises(ValueError, image.upload_ndarray, np.zeros((1, 100, 100), np.uint64))

    def test_upload_ndarray_bad_georef(self, org):
        p = Product(id="p1", name="Test Product").save()
        # no cs_code (the original: a geotrans of zeros and no projection, which wf_widgets refuses on assignment)
        image = Image(id="p1:image", product=p, acquired="2012-05-06", geotrans=GEOTRANS)
        pytest.raises(ValueError, image.upload_ndarray, np.zeros((100, 100)))

    @pytest.mark.skip(reason="deliberate difference: a 3-d array is (bands, y, x), without the original's warning "
                             "when it guesses the band axis is last, and a cs_code is checked when set (docs/compat.md)")
    def test_upload_ndarray_shape(self):
        pass

    @pytest.mark.skip(reason=UPLOAD_SERVICE + " (the test mocks numpy.save to see the array sent)")
    def test_upload_ndarray_moves_band_axis(self):
        pass

    @pytest.mark.skip(reason=UPLOAD_SERVICE + " (the test mocks numpy.save to see the arrays sent)")
    def test_upload_ndarray_multiple(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_load_one_band(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_nonexistent_band_fails(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_different_band_dtypes(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_load_multiband(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_load_multiband_axis_last(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_load_nomask(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_auto_mask_alpha_false(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_mask_alpha_string(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_mask_missing_alpha(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_mask_missing_band(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_auto_mask_alpha_true(self):
        pass

    def test_coverage(self, org):
        geometry = shapely.geometry.Point(0.0, 0.0).buffer(1)

        image = Image(id="foo:bar", geometry=geometry)

        # same geometry (as a GeoJSON)
        assert image.coverage(geometry.__geo_interface__) == pytest.approx(1.0, abs=1e-6)

        # geom is larger
        geom_larger = shapely.geometry.Point(0.0, 0.0).buffer(2)
        assert image.coverage(geom_larger) == pytest.approx(0.25, abs=1e-6)

        # geom is smaller
        geom_smaller = shapely.geometry.Point(0.0, 0.0).buffer(0.5)
        assert image.coverage(geom_smaller) == pytest.approx(1.0, abs=1e-6)

    @pytest.mark.skip(reason=RASTER_API + " (Image.download writes what the Raster API returns; a local image's "
                             "file is image.file_path)")
    def test_download(self):
        pass

    @pytest.mark.skip(reason=RASTER_API)
    def test_scaling_parameters_display(self):
        pass
