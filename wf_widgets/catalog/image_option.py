"""A catalog Image as the ``image`` option of the catalog destination.

The rules table (:mod:`wf_widgets.outputs`) sits below the catalog, so the catalog teaches
:func:`~wf_widgets.outputs.normalize.normalize` this option type
(:func:`~wf_widgets.outputs.normalize.register_option_kind`, done when the catalog package is
imported): a ``catalog.Image`` stands for the whole destination, and the option's normal
form is the dict :func:`image_dict` makes, which normalize accepts back unchanged.
"""

from __future__ import annotations

from typing import Any

from .._context import current
from ..errors import ValidationError, ValidationTypeError
from ..outputs.normalize import OptionKind, register_option_kind
from ._common import namespace_id
from .image import Image

#: The option type of the catalog destination's ``image`` option in the rules table.
OPTION_TYPE = "catalog.Image"


def image_dict(image: Image) -> dict:
    """The JSON-able normal form of a catalog.Image: id, name, product_id and its other set fields.

    What the catalog sets (``created``, ``modified``, ``files``) is left out: the form says
    what to upload, and :func:`normalize <wf_widgets.outputs.normalize.normalize>` accepts it
    back unchanged.
    """
    d = {"id": image.id, "name": image.name, "product_id": image.product_id}
    for key, value in image.to_dict().items():
        if value not in (None, {}, []) and key not in d and key not in Image._derived:
            d[key] = value
    return d


def image_from_dict(value: dict, where: str) -> Image:
    """A new catalog Image from a dict like :func:`image_dict` (or ``Image.to_dict()``) returns.

    ``created``, ``modified`` and ``files`` (set by the catalog) are accepted and ignored; ``id``,
    when given, must be ``"<product_id>:<name>"``; any other key must be a field of the Image.
    A ``product_id`` without an org gets the current one (``WF_WIDGETS_ORG``).
    """
    ignored = ("id",) + Image._derived
    known = Image._fields + ignored
    for key in value:
        if key not in known:
            raise ValidationError(f"Unknown key {key!r} in {where}; allowed keys: {', '.join(map(repr, known))}",
                                  field=f"{where}.{key}", value=key, allowed=known)
    for key in ("name", "product_id"):
        if value.get(key) is None:
            raise ValidationError(f"{where} needs a {key!r}", field=f"{where}.{key}", value=None)
    image = Image.from_dict({k: v for k, v in value.items() if k not in ignored})
    given_id = value.get("id")
    if ":" not in image.product_id:  # a product id without its org: the current one (WF_WIDGETS_ORG)
        settings = current().settings
        image.product_id = namespace_id(image.product_id, settings)
        if isinstance(given_id, str) and given_id.count(":") == 1:
            product_id, name = given_id.split(":")
            given_id = f"{namespace_id(product_id, settings)}:{name}"
    if given_id is not None and given_id != image.id:
        raise ValidationError(f"{where}.id must be '<product_id>:<name>' ({image.id!r}), got {value['id']!r}",
                              field=f"{where}.id", value=value["id"], allowed=(image.id,))
    return image


def normal_form(value: Any, where: str) -> dict:
    """The option's normal form: an Image, or a dict describing one, checked as an Image."""
    if isinstance(value, Image):
        value = value.to_dict()  # and check it again: an Image loaded from an old row, changed since, ...
    elif not isinstance(value, dict):
        raise ValidationTypeError(f"{where} must be a catalog.Image (or its normal form, a dict), "
                                  f"got {type(value).__name__} {value!r}", field=where, value=value)
    return image_dict(image_from_dict(value, where))


register_option_kind(OPTION_TYPE, OptionKind(matches=lambda obj: isinstance(obj, Image), normal=normal_form))
