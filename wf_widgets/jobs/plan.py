"""The one launch pipeline: prepare a job (every check, exactly once), then submit it.

:func:`prepare` runs, in order and once each: the graph's own checks, :func:`normalize
<wf_widgets.outputs.normalize.normalize>` of the format and destination, the geocontext, the
destination handler's ``preflight`` (:mod:`wf_widgets.delivery`) and the memory estimate. It
returns a :class:`Launch`, which holds everything the job's row needs; nothing exists yet.
:func:`submit` turns a Launch into a job row and hands it to the runner.

``compute()`` prepares and submits at once. The export form prepares its launches while the
user edits it (once per tile), keeps them, and at the click runs only :func:`recheck`, what
can change in between (existence, access), then submits them. The board's retry rebuilds a
launch from a stored row: :func:`normalize <wf_widgets.outputs.normalize.normalize>` accepts
its own output.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Callable, Iterable, Sequence

from .. import _context
from .._context import BackendLike
from ..delivery import HANDLERS
from ..delivery.notify import normalize_notify
from ..engine import memory
from ..engine.evaluate import EvalContext, needs_geoctx
from ..errors import ValidationError, ValidationTypeError
from ..geo import GeoContext, as_geocontext
from ..outputs.normalize import normalize
from ..values.base import Value, promote
from ..values.graph import validate
from ..values.image import check_graph
from .job import Job

IMAGE_KINDS = ("Image", "ImageCollection")


def new_job_id() -> str:
    """48 hexadecimal characters: 12 of the creation time in milliseconds, then 36 random.

    Time-ordered ids keep the job store's inserts at the end of its primary key and let
    it list recent jobs by id; 144 random bits keep them unguessable.
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(18)}"


def as_value(value: object) -> Value:
    """``value`` as a lazy value (plain Python values are promoted)."""
    if isinstance(value, Value):
        return value
    try:
        return promote(value)
    except TypeError:
        raise ValidationTypeError(f"compute() needs a wf value, got {type(value).__name__} {value!r}",
                                  field="value", value=value) from None


def check_geocontext(geoctx: object, value: Value) -> GeoContext | None:
    """The GeoContext of ``geoctx`` (None if the value needs none); raises if imagery lacks one."""
    if geoctx is None:
        if value.kind in IMAGE_KINDS or needs_geoctx(value.node):
            what = {"Image": "an Image", "ImageCollection": "an ImageCollection"}.get(value.kind,
                                                                                    "this value (it reads imagery)")
            raise ValidationError(
                f"Computing {what} needs a geoctx: a DLTile (wf.DLTile.from_latlon(...)) or an AOI",
                field="geoctx", value=None)
        return None
    return as_geocontext(geoctx)


def check_memory(value: Value, geoctx: GeoContext | None, backend: BackendLike) -> None:
    """Refuse ``value`` if computing it in ``geoctx`` needs more than ``max_memory`` by the estimate.

    Imagery is estimated with the catalog (the scenes intersecting ``geoctx``); a graph
    without imagery only for its Arrays (the catalog is not opened).
    """
    ctx = EvalContext.for_backend(backend, geoctx) if geoctx is not None and needs_geoctx(value.node) else None
    memory.check(value.node, ctx, backend.settings.max_memory)


@dataclasses.dataclass(frozen=True)
class Launch:
    """A job that passed every check and can be submitted: what its row will hold.

    Attributes
    ----------
    value : Value
        What to compute.
    geoctx : GeoContext or None
    format, destination : dict
        Normal forms (:func:`~wf_widgets.outputs.normalize.normalize`).
    backend : BackendLike
        Where the job's row goes and who runs it.
    notify : dict or None
        What to send when the job ends for good (:func:`~wf_widgets.delivery.notify.normalize_notify`).
    retries : int
        How many more attempts a transient failure gets.
    """

    value: Value
    geoctx: GeoContext | None
    format: dict
    destination: dict
    backend: BackendLike
    notify: dict | None = None
    retries: int = 0

    @property
    def label(self) -> str | None:
        """A short description of where it computes (the DLTile key)."""
        return getattr(self.geoctx, "key", None)


@dataclasses.dataclass(frozen=True)
class Request:
    """A value with its format and destination in normal form: what a job computes and where it goes.

    Attributes
    ----------
    value : Value
    format, destination : dict
        Normal forms (:func:`~wf_widgets.outputs.normalize.normalize`).
    """

    value: Value
    format: dict
    destination: dict


def request(value: object, format: object = "pyarrow", destination: object = "download") -> Request:
    """Check what depends on nothing but the table: the graph, the format and the destination.

    Raises
    ------
    ValidationError
        A bad graph, format or destination (naming the field, the value and what is allowed).
    """
    value = as_value(value)
    validate(value.node)
    dest, fmt = normalize(destination, format, value.kind)
    return Request(value, fmt, dest)


#: Most retries one job may have.
MAX_RETRIES = 10


def check_retries(retries: object) -> int:
    """``retries`` as an int from 0 to :data:`MAX_RETRIES`.

    Raises
    ------
    ValidationError
        Not a whole number in that range.
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise ValidationError(f"retries must be a whole number from 0 to {MAX_RETRIES}, got {retries!r}",
                              field="retries", value=retries, allowed=range(MAX_RETRIES + 1))
    return retries


def prepare_request(req: Request, geoctx: object = None, backend: BackendLike | None = None, *,
                    notify: object = None, retries: object = 0) -> Launch:
    """Check what depends on where and by whom a :class:`Request` is computed; returns the Launch.

    The retries, the notification (:func:`~wf_widgets.delivery.notify.normalize_notify`:
    the webhook's address, the email settings), the geocontext, the graph against the
    catalog (products and bands, as the backend's user), the destination handler's
    ``preflight`` and the memory estimate.
    """
    backend = backend if backend is not None else _context.current()
    retries = check_retries(retries)
    notify = normalize_notify(notify, backend)
    ctx = check_geocontext(geoctx, req.value)
    check_graph(req.value, backend)
    HANDLERS[req.destination["type"]].preflight(req.destination, req.format, req.value, backend)
    check_memory(req.value, ctx, backend)
    return Launch(req.value, ctx, req.format, req.destination, backend, notify, retries)


def prepare(value: object, geoctx: object = None, format: object = "pyarrow", destination: object = "download",
            backend: BackendLike | None = None, *, notify: object = None, retries: object = 0) -> Launch:
    """Check a job before it exists (:func:`request`, then :func:`prepare_request`); returns the Launch to submit.

    Parameters
    ----------
    value : Value or plain Python value
    geoctx : DLTile, AOI, dict or None
    format, destination
        As ``compute()`` takes them (names, dicts, a catalog.Image, or their normal forms).
    backend : BackendLike, optional
        The current backend by default.
    notify : dict, optional
        ``{"webhook": url, "email": bool}`` (:mod:`wf_widgets.delivery.notify`).
    retries : int
        Attempts after the first for a transient failure (0 to :data:`MAX_RETRIES`).

    Raises
    ------
    ValidationError, NotFound, PermissionDenied
        Whatever check fails first (the graph, normalize, the geocontext, the catalog, the
        destination's preflight, the memory estimate); nothing was created.
    """
    return prepare_request(request(value, format, destination), geoctx, backend, notify=notify, retries=retries)


def prepare_many(value: object, geoctxs: Sequence[object], format: object = "pyarrow",
                 destination: object | Callable[[GeoContext], object] = "download",
                 backend: BackendLike | None = None, *, notify: object = None, retries: object = 0) -> list[Launch]:
    """Prepare one launch per geocontext, all or none.

    ``destination`` may be a function of the geocontext (one image per tile). The first
    failing check raises, naming the tile; nothing was created. ``notify`` and ``retries``
    apply to each job (each notifies on its own end).
    """
    launches = []
    for geoctx in geoctxs:
        dest = destination(as_geocontext(geoctx)) if callable(destination) else destination
        try:
            launches.append(prepare(value, geoctx, format, dest, backend, notify=notify, retries=retries))
        except ValidationError as exc:
            key = getattr(geoctx, "key", None)
            if key is not None and len(geoctxs) > 1:
                exc.args = (f"Tile {key}: {exc}",) + exc.args[1:]
            raise
    return launches


def recheck(launch: Launch) -> None:
    """Check again what can change between :func:`prepare` and :func:`submit` (existence, access)."""
    HANDLERS[launch.destination["type"]].recheck(launch.destination, launch.format, launch.backend)


def submit(launch: Launch, run_here: bool = False) -> Job:
    """Create the job's row and hand it to the runner; returns the Job.

    The first launch of a process sweeps the home (reaps jobs whose worker died, deletes
    expired results; ``backend.ensure_swept()``). Where the worker needs the result's link
    (an email carries it), its base URL is resolved here, in the launching process, and
    stored in the row. With ``run_here`` the row is created claimed by this process, for the
    caller to run (``Job._run_here``).
    """
    backend = launch.backend
    backend.ensure_swept()
    link_base = link_note = None
    # The worker needs the link when it mails it, and a notification carries the link of a stored result.
    handler = HANDLERS[launch.destination["type"]]
    if handler.link_in_worker or (launch.notify is not None and getattr(handler, "stores_download", False)):
        link_base, link_note = backend.link_base(), backend.link_note()
    job_id = new_job_id()
    ctx = launch.geoctx
    row = backend.jobs.create(job_id, kind=launch.value.kind, graph=launch.value.to_json(),
                              geoctx=ctx.to_dict() if ctx is not None else None, format=launch.format,
                              destination=launch.destination, label=launch.label, claim=run_here,
                              link_base=link_base, link_note=link_note, notify=launch.notify,
                              retries=launch.retries, defer=run_here or backend.runner.runs_in_process)
    job = Job(job_id, backend, _row=row)._launched(launch.value)
    if not run_here:
        backend.runner.submit(job_id, row=dict(row), node=launch.value.node)  # a copy: the Job updates its own
    return job


def submit_many(launches: Iterable[Launch]) -> list[Job]:
    """:func:`recheck` every launch, then :func:`submit` them (none if a recheck fails)."""
    launches = list(launches)
    for launch in launches:
        recheck(launch)
    return [submit(launch) for launch in launches]
