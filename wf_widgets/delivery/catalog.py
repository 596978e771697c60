"""The catalog destination: upload a computed Image into a catalog product.

``preflight`` checks every requirement that can be known before running (the product is
saved, the user may write to it, its bands share one data type, it has an alpha band or
nodata on every band, the band counts match, the image is free or ``overwrite=True``);
``deliver`` checks them again, transforms the computed values
(:mod:`~wf_widgets.delivery.catalog_transforms`, with the data-loss guard) and uploads them
as a Cloud Optimized GeoTIFF with the job's geotiff options; ``result`` loads the saved
``catalog.Image``.

The upload is atomic (:meth:`wf_widgets.catalog.Image.upload_ndarray`): the file is
written to a temporary name, then the record is stored and the file moved into place in
one catalog transaction. A failure at any step leaves no image record and no file, and with
``overwrite=True`` the old image and its file stay as they were until the new ones are
complete.

The uploaded image's ``cs_code`` and ``geotrans`` are those of the computed grid (any set
on the catalog Image are replaced); its name, ``extra_properties`` and ``acquired`` (when
set) are kept.

Provenance: the image's ``extra_properties`` also record how it was made (:func:`provenance`),
as STAC ``processing`` extension fields (``processing:lineage``, ``processing:software``,
``processing:datetime``) and ``wf:job_id``, ``wf:graph_hash`` (the graph's root node id, a
content hash), ``wf:format`` (the job's format options) and ``wf:source_products`` (the
catalog products the graph reads). They replace keys of the same names the job's Image had.
"""

from __future__ import annotations

import datetime as _dt

from affine import Affine

from .._context import BackendLike, CatalogStoreLike
from ..catalog import Image
from ..catalog._common import check_name, check_product_id
from ..catalog.imports import provenance as _processing
from ..errors import JobComputeError, JobDestination, NotFound, WfError
from ..outputs.results import ImageResult
from ..values.image import static_bands
from . import catalog_transforms
from .catalog_target import check_format, check_image_free, check_upload, load_target, plan_bands


class CatalogHandler:
    """The catalog destination (see :class:`~wf_widgets.delivery.handler.DestinationHandler`)."""

    link_in_worker = False
    stores_download = False
    discardable = False  # an image is in the catalog

    def preflight(self, destination: dict, format: dict, value: object | None, backend: BackendLike) -> None:
        """Raise before a job exists if the upload can't succeed.

        Parameters
        ----------
        destination, format : dict
            Normal forms (``destination["image"]`` is the catalog Image's dict).
        value : Value or None
            The Image to compute; its band names come from ``static_bands``. When they can't be
            known before running, the band count is checked when the job uploads.
        backend : BackendLike

        Raises
        ------
        NotFound, ValidationError
            A requirement is not met (the message says which, and how to fix it), or the name or
            product id is invalid or too long (``field`` is ``"name"`` or ``"product_id"``).
        PermissionDenied
            The user may not write to the product.
        """
        store = backend.catalog
        image = destination["image"]
        check_product_id(image["product_id"])  # normalize checked them; a hand-made dict may not have been
        check_name(image["name"])
        names = static_bands(value, backend) if value is not None else None
        check_upload(store, image["product_id"], image["name"], names, format)
        check_image_free(store, image["id"], destination["overwrite"])

    def recheck(self, destination: dict, format: dict, backend: BackendLike) -> None:
        """What can change after preflight: the product (and the user's right to write it), the image's absence."""
        image = destination["image"]
        load_target(backend.catalog, image["product_id"], image["name"])
        check_image_free(backend.catalog, image["id"], destination["overwrite"])

    def deliver(self, backend: BackendLike, job: dict, value: ImageResult) -> dict:
        """Worker side: transform and upload ``value`` (an ImageResult); returns ``{"result_ref": ...}``.

        Raises
        ------
        JobDestination
            A requirement no longer holds, the data-loss guard refused the values, or the upload
            failed; nothing was written (and an overwritten image is unchanged).
        """
        destination, fmt = job["destination"], job["format"]
        store = backend.catalog
        spec = destination["image"]
        names = list(value.bandinfo)
        try:
            target = load_target(store, spec["product_id"], spec["name"])
            plan = plan_bands(target, names)
            # A retry replaces what an earlier attempt of this job uploaded (attempts are idempotent).
            overwrite = destination["overwrite"] or _earlier_attempt_wrote(store, spec["id"], job)
            check_image_free(store, spec["id"], overwrite)
            check_format(target, fmt)
            array = catalog_transforms.transform(value.ndarray, names, target, plan,
                                                 rescale_values=destination["rescale"],
                                                 change_dtype=destination["change_dtype"])
            image = _image(spec, value, backend.settings.now(), store, job)
            image.upload_ndarray(array, overviews=fmt["overviews"], overview_resampler=fmt["overview_resampler"],
                                 compression=fmt["compression"], overwrite=overwrite)
        except (JobComputeError, MemoryError):
            raise
        except WfError as exc:  # a requirement that no longer holds (PermissionDenied too)
            raise JobDestination(f"{str(exc).rstrip('.')}. Nothing was uploaded.") from exc
        except Exception as exc:  # the file or the record could not be written (disk full, database error, ...)
            raise JobDestination(f"Could not upload image {spec['id']!r} to the catalog: {type(exc).__name__}: {exc}. "
                                 "Nothing was uploaded (an image it would replace is unchanged).") from exc
        return {"result_ref": {"id": image.id, "created": image.created.isoformat()}}

    def result(self, backend: BackendLike, job: dict) -> Image:
        """What ``compute()`` and ``Job.result()`` return: the saved ``catalog.Image`` (with ``created``).

        Raises
        ------
        NotFound
            The image was deleted since the job uploaded it.
        """
        ref = job.get("result_ref") or {}
        image_id = ref["id"] if isinstance(ref, dict) else ref
        image = Image.get(image_id, store=backend.catalog)
        if image is None:
            raise NotFound(f"Image {image_id!r}, uploaded by job {job['id']}, has since been deleted from the catalog",
                           field="image", value=image_id)
        return image


def _earlier_attempt_wrote(store: CatalogStoreLike, image_id: str, job: dict) -> bool:
    """Whether image ``image_id`` is what an earlier attempt of ``job`` uploaded.

    On a retry (``attempts`` > 1), an image that exists and was last written after the job
    was launched (when the image was checked free, unless ``overwrite``) came from an earlier
    attempt, which failed after uploading (its worker killed before it recorded the end).
    """
    if (job.get("attempts") or 1) < 2 or job.get("created") is None:
        return False
    row = store.get_image(image_id)
    if row is None:
        return False
    written = row.get("modified") or row.get("created")
    if isinstance(written, str):
        written = _dt.datetime.fromisoformat(written)
    if isinstance(written, _dt.datetime):
        written = (written if written.tzinfo else written.replace(tzinfo=_dt.timezone.utc)).timestamp()
    return isinstance(written, (int, float)) and written >= job["created"]


def source_products(graph: dict | None) -> list[str]:
    """The catalog products a stored graph reads (``ic_from_id`` products, the products of ``image_from_id`` images)."""
    found: set[str] = set()
    for node in ((graph or {}).get("nodes") or {}).values():
        op = node.get("op")
        if op not in ("ic_from_id", "image_from_id"):
            continue
        args, kwargs = node.get("args") or [], node.get("kwargs") or {}
        key = "product_id" if op == "ic_from_id" else "image_id"
        first = args[0] if args else kwargs.get(key)
        text = first.get("lit") if isinstance(first, dict) else None
        if isinstance(text, str):
            found.add(text if op == "ic_from_id" else text.rsplit(":", 1)[0])
    return sorted(found)


def provenance(job: dict, now: _dt.datetime) -> dict:
    """How a job's uploaded image was made: STAC ``processing`` fields plus the job's id, graph hash, format
    options and source products (see the module doc)."""
    graph = job.get("graph") or {}
    sources = source_products(graph)
    lineage = (f"Computed by wf_widgets job {job['id']} (graph {graph.get('root')}) from "
               f"{', '.join(sources) or 'no catalog product'}, written as a {job['format'].get('type', 'geotiff')} "
               "COG by the catalog destination")
    return _processing(lineage, now, **{"wf:job_id": job["id"], "wf:graph_hash": graph.get("root"),
                                        "wf:format": dict(job["format"]), "wf:source_products": sources})


def _image(spec: dict, value: ImageResult, now: _dt.datetime, store: CatalogStoreLike, job: dict) -> Image:
    """The catalog Image to save: the job's Image fields, the computed grid, ``acquired`` and the provenance."""
    image = Image.from_dict(spec, store=store)
    geo = value.geocontext
    image.cs_code = geo["crs"]
    image.geotrans = Affine(*geo["transform"][:6]).to_gdal()
    image.acquired = catalog_transforms.acquired(spec, value.properties, now)
    image.extra_properties = {**(image.extra_properties or {}), **provenance(job, now)}
    return image
