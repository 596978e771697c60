"""Jobs: the job store, the runner, Job handles, compute() and text progress."""

from .._context import STAGES
from .compute import compute, launch
from .job import Job

__all__ = ["Job", "STAGES", "compute", "launch"]
