"""``wf.scenes``: where the original client kept DLTile and AOI."""

from .geo import AOI, DLTile

__all__ = ["AOI", "DLTile"]
