"""The local catalog: products, bands and images, stored in SQLite with COG raster files.

A self-hosted counterpart of the Descartes Labs catalog client::

    import wf_widgets as dl
    product = dl.catalog.Product(id="org:my_product_id", name="My product")
    product.save()                                  # the current user becomes an owner
    dl.catalog.SpectralBand(name="vv", product_id=product.id, data_type="Float64", nodata=0).save()
    image = dl.catalog.Image(name="my_image", product_id=product.id,
                             cs_code="EPSG:32613", geotrans=(500000, 10, 0, 4000000, 0, -10))
    image.upload_ndarray(array)                     # a COG under <home>/catalog/files/

Code that runs more than once (a notebook rerun, a Voila page) sets up with ``get_or_create``
(``Product``, every band class and ``Image``): the stored object with the given fields
applied, or a new unsaved one; ``save()`` works either way::

    product = dl.catalog.Product.get_or_create("org:my_product_id", name="My product").save()
    dl.catalog.SpectralBand.get_or_create(name="vv", product_id=product.id, data_type="Float64").save()

Access rules live in :mod:`wf_widgets.catalog.access`, all SQL in
:mod:`wf_widgets.catalog.store`, file placement in :mod:`wf_widgets.catalog.files`.
"""

from . import image_option  # noqa: F401  (teaches normalize the catalog destination's image option)
from ._object import AttributeValidationError, DeletedObjectError, DocumentState, UnknownFieldError, UnsavedObjectError
from .access import PUBLIC
from .attributes import DerivedParamsAttribute, MappingAttribute, ProcessingStepAttribute, Resolution, ResolutionUnit
from .bands import Band, ClassBand, GenericBand, MaskBand, MicrowaveBand, SpectralBand
from .datatypes import DataType
from .image import Image
from .listing import catalog_listing
from .product import Product
from .search import AggregateDateField, ImageSearch, Interval, Properties, Search, SummaryResult, properties

__all__ = [
    "AggregateDateField",
    "AttributeValidationError",
    "Band",
    "ClassBand",
    "DataType",
    "DeletedObjectError",
    "DerivedParamsAttribute",
    "DocumentState",
    "GenericBand",
    "Image",
    "ImageSearch",
    "Interval",
    "MappingAttribute",
    "MaskBand",
    "MicrowaveBand",
    "PUBLIC",
    "ProcessingStepAttribute",
    "Properties",
    "Resolution",
    "ResolutionUnit",
    "Product",
    "Search",
    "SpectralBand",
    "SummaryResult",
    "UnknownFieldError",
    "UnsavedObjectError",
    "catalog_listing",
    "properties",
]
