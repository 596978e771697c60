"""Access control of catalog products: who may read, write and own.

The rules, in one place:

* The current user is ``settings.user`` (``"user:alice"``), plus ``"email:<settings.email>"``
  when an e-mail address is configured, plus ``"group:public"`` (everyone is in it).
* **read** a product, its bands and images: the user is in the product's ``readers``,
  ``writers`` or ``owners`` (so ``readers=["group:public"]`` makes a product public-read).
* **write** bands and images of a product: the user is in ``writers`` or ``owners``.
* **own** (change the product itself, its access lists, delete it): the user is in ``owners``.
  :meth:`Product.save` makes the current user an owner of a new product.

Every check happens before anything is written and raises
:class:`~wf_widgets.errors.PermissionDenied` naming the user, the product and the missing right.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..config import Settings
from ..errors import PermissionDenied

PUBLIC = "group:public"
RIGHTS = ("read", "write", "own")

# right -> (access lists that grant it, how to fix a refusal)
_GRANTED_BY = {
    "read": ("readers", "writers", "owners"),
    "write": ("writers", "owners"),
    "own": ("owners",),
}


def identities(settings: Settings) -> set[str]:
    """Every principal the current user acts as."""
    ids = {settings.user, PUBLIC}
    email = getattr(settings, "email", None)
    if email:
        ids.add(f"email:{email}")
    return ids


def has_right(settings: Settings, product: Mapping[str, Any], right: str) -> bool:
    """Whether the current user has ``right`` (``"read"``, ``"write"``, ``"own"``) on ``product``."""
    ids = identities(settings)
    return any(ids.intersection(product.get(lists) or ()) for lists in _GRANTED_BY[right])


def require(settings: Settings, product: Mapping[str, Any], right: str, action: str) -> None:
    """Raise PermissionDenied unless the current user has ``right`` on ``product``.

    Parameters
    ----------
    settings : Settings
        Holds the current user.
    product : mapping
        The product's stored fields (``id``, ``owners``, ``readers``, ``writers``).
    right : {"read", "write", "own"}
        The right needed.
    action : str
        What the user tried, for the message (``"upload image 'x' to"``).
    """
    if has_right(settings, product, right):
        return
    lists = " or ".join(_GRANTED_BY[right])
    raise PermissionDenied(
        f"{settings.user} may not {action} product {product['id']!r}: {right} access is missing "
        f"(an owner of the product can add {settings.user!r} to its {lists})"
    )
