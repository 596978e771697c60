"""STAC documents validated by stac-validator (PyPI: ``stac-valid``) against the schemas vendored in ``tests/stac_schemas`` (no network).

``tests/stac_schemas`` holds the STAC 1.1.0 core schemas and GeoJSON schemas bundled with pystac
(``pystac/validation/jsonschemas``), and the ``json-schema/schema.json`` of the v1.1.0 tags of
the projection, raster and eo extensions (github.com/stac-extensions); every URL they are known
by maps to its file, so a schema that is not vendored fails the validation instead of being
downloaded.
"""

from __future__ import annotations

import warnings
from pathlib import Path

with warnings.catch_warnings():  # its own note that the PyPI name moved to stac-valid (which we install)
    warnings.simplefilter("ignore", DeprecationWarning)
    from stac_validator.validate import StacValidate

SCHEMAS = Path(__file__).resolve().parent / "stac_schemas"
_CORE = "https://schemas.stacspec.org/v1.1.0"
_CORE_FILES = {
    "item-spec/json-schema": ("item", "basics", "bands", "common", "data-values", "datetime", "instrument",
                              "licensing", "provider"),
    "catalog-spec/json-schema": ("catalog",),
    "collection-spec/json-schema": ("collection",),
}
#: Every schema URL -> its vendored file.
SCHEMA_MAP = {
    **{f"{_CORE}/{folder}/{name}.json": str(SCHEMAS / "core-v1.1.0" / f"{name}.json")
       for folder, names in _CORE_FILES.items() for name in names},
    # catalog.json and collection.json reach the item folder's files by relative paths
    **{f"{_CORE}/{folder}/../../item-spec/json-schema/{name}.json": str(SCHEMAS / "core-v1.1.0" / f"{name}.json")
       for folder in ("catalog-spec/json-schema", "collection-spec/json-schema") for name in ("item", "common")},
    "https://geojson.org/schema/Feature.json": str(SCHEMAS / "geojson" / "Feature.json"),
    "https://geojson.org/schema/Geometry.json": str(SCHEMAS / "geojson" / "Geometry.json"),
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json": str(SCHEMAS / "projection-v1.1.0.json"),
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json": str(SCHEMAS / "raster-v1.1.0.json"),
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json": str(SCHEMAS / "eo-v1.1.0.json"),
}


def stac_errors(doc: dict) -> list:
    """stac-validator's messages for an invalid ``doc`` (an Item, Collection or Catalog), [] when valid.

    Core and every extension of ``stac_extensions`` are validated (stac-validator's default mode).
    """
    validator = StacValidate(schema_map=SCHEMA_MAP, assets_open_urls=False)
    valid = validator.validate_dict(doc)
    return [] if valid else validator.message
