"""Cloud Optimized GeoTIFF files: write (:mod:`.write`), read (:mod:`.read`), check (:mod:`.validate`).

Every GeoTIFF wf_widgets writes is a COG: the geotiff codec's bytes
(:mod:`wf_widgets.outputs.codecs.geotiff`) and the catalog's image files. Importing this
package imports rasterio (deliberately at import time: rasterio sets PROJ's data path on
import, which must not happen first in a worker thread); ``wf_widgets.outputs`` itself does
not import it.

Examples
--------
>>> import numpy as np
>>> from wf_widgets.outputs import cog
>>> profile = cog.CogProfile(crs="EPSG:32613", transform=(10, 0, 500000, 0, -10, 4000000))
>>> data = cog.write_cog(None, np.zeros((1, 64, 64), np.uint8), profile)
>>> cog.validate_cog(data)
[]
>>> cog.read_cog(data).array.shape
(1, 64, 64)
"""

from .read import Raster, RasterInfo, gdal_env, read_cog, read_info
from .validate import validate_cog
from .write import (
                    BLOCKSIZE,
                    COMPRESSIONS,
                    MASK_MODES,
                    OVERVIEW_RESAMPLERS,
                    CogProfile,
                    check_compression,
                    overview_factors,
                    tag_value,
                    write_cog,
)

__all__ = [
    "BLOCKSIZE", "COMPRESSIONS", "MASK_MODES", "OVERVIEW_RESAMPLERS", "CogProfile", "Raster", "RasterInfo",
    "check_compression", "gdal_env", "overview_factors", "read_cog", "read_info", "tag_value", "validate_cog", "write_cog",
]
