"""Jobs: the job store, the runner, Job handles, compute() and text progress."""

from .compute import compute, launch
from .job import Job
from .store import STAGES

__all__ = ["Job", "STAGES", "compute", "launch"]
