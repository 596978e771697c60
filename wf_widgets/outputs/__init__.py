"""Output formats and destinations: the one table of rules, its validation, and the codecs."""

from .normalize import format_choices, format_problem, normalize
from .registry import DESTINATIONS, FORMATS, Destination, Format, Option

__all__ = ["DESTINATIONS", "FORMATS", "Destination", "Format", "Option", "format_choices", "format_problem",
           "normalize"]
