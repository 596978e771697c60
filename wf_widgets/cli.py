"""The ``wf-widgets`` command: demo, demo-data, serve, sweep, jobs, catalog, doctor, keys.

Reading commands (``jobs``, ``jobs show``, ``catalog``, ``doctor`` without ``--repair``)
never sweep, and make no store that does not exist yet (a home without a job store has no
jobs); ``sweep`` always sweeps.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from typing import Sequence

from . import doctor
from ._db import describe
from .backend import Backend, get_backend
from .catalog.listing import catalog_listing
from .catalog.store import CatalogStore
from .delivery.links import result_url
from .demo import run_demo
from .demo_data import make_demo_data
from .errors import ValidationError, WfError
from .jobs import Job
from .jobs.store import JobStore
from .server import standalone
from .server.links import lasting_base


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def cmd_jobs(args: argparse.Namespace) -> int:
    backend = get_backend()
    if not JobStore.exists(backend.settings):  # no job was ever launched here: make no store to say so
        if args.action == "list":
            print(f"no jobs in {describe(backend.settings)}")
            return 0
        raise ValidationError(f"No job with id {args.job_id!r} in {describe(backend.settings)}", field="job_id",
                              value=args.job_id)
    if args.action == "show":
        job = Job.get(args.job_id)
        row = dict(job._row)
        row.pop("graph", None)
        for key in ("created", "started", "finished", "updated", "expires", "heartbeat"):
            row[key] = _when(row.get(key))
        print(repr(job))
        print(json.dumps(row, indent=2, default=str))
        if job.stage == "SUCCEEDED" and row.get("result_path") and not row.get("result_deleted"):
            # Only a server that outlives this command can serve the link (one started here would
            # stop when it ends, and start a sweep on its way up).
            base = lasting_base(backend)
            print(f"link: {result_url(backend.signer, base, job.id, job._row['expires'])}" if base else
                  "link: none while no server runs (start one with `wf-widgets serve`, or set WF_WIDGETS_PUBLIC_URL)")
        return 0
    if args.action == "cancel":
        ok = Job.get(args.job_id).cancel()
        print(f"cancel requested for {args.job_id}" if ok else f"job {args.job_id} had already ended")
        return 0
    rows = backend.jobs.list(limit=args.limit, owner=backend.settings.user)  # a user's own jobs
    if not rows:
        print(f"no jobs in {describe(backend.settings)}")
        return 0
    print(f"{'id':<48}  {'stage':<10} {'steps':>9}  {'destination':<12} {'format':<8} {'created (UTC)':<19}  label")
    for r in rows:
        steps = f"{r['steps_done']}/{r['steps_total']}"
        print(f"{r['id']:<48}  {r['stage']:<10} {steps:>9}  {r['destination']['type']:<12} "
              f"{r['format']['type']:<8} {_when(r['created']):<19}  {r['label'] or ''}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    counts = Backend(sweep=False).sweep()
    print(f"deleted {counts['expired']} expired result(s); marked {counts['reaped']} interrupted job(s); "
          f"found {counts['damaged']} missing or damaged result(s); deleted {counts['leftovers']} leftover "
          "temporary file(s)")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    backend = get_backend()
    root = backend.settings.home / "catalog"
    if not CatalogStore.exists(backend.settings):  # nothing was ever added: make no store to say so
        print(f"Catalog {root} (as {backend.settings.user}): 0 product(s)")
        return 0
    print(catalog_listing(backend))
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    product = make_demo_data(force=args.force)
    print(f"demo product {product.id} ready ({len(list(product.images()))} images)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return standalone.main(["--host", args.host, "--port", str(args.port)]
                           + (["--public-url", args.public_url] if args.public_url else []))


def cmd_doctor(args: argparse.Namespace) -> int:
    return doctor.main(repair=args.repair)


def cmd_keys(args: argparse.Namespace) -> int:
    """``keys rotate``: a new signing key; links signed with the old ones stop working."""
    print(get_backend().signer.rotate())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wf-widgets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("demo", help="run the spec's examples end to end").set_defaults(func=cmd_demo)
    p = sub.add_parser("demo-data", help="create the demo product sentinel-1:GRD")
    p.add_argument("--force", action="store_true", help="recreate it even if it exists")
    p.set_defaults(func=cmd_demo_data)
    p = sub.add_parser("serve", help="serve download links (and map tiles)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--public-url", default=None, help="base URL of links; required with a non-loopback --host")
    p.set_defaults(func=cmd_serve)
    sub.add_parser("sweep", help="delete expired results, mark interrupted jobs, check stored "
                       "results, delete leftover temporary files").set_defaults(func=cmd_sweep)
    p = sub.add_parser("jobs", help="list recent jobs, show one, cancel one")
    p.add_argument("action", nargs="?", choices=("list", "show", "cancel"), default="list")
    p.add_argument("job_id", nargs="?")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_jobs)
    sub.add_parser("catalog", help="list catalog products, bands and images").set_defaults(func=cmd_catalog)
    p = sub.add_parser("doctor", help="check the home folder (stores, orphan files, signing key, disk space)",
                       description="Check the home folder: integrity of each store, result and blob files no row "
                                   "uses, the signing key, free disk space. Exit status 1 when a problem remains.")
    p.add_argument("--repair", action="store_true",
                   help="move broken stores aside (a new one is made at next use), delete orphan files, "
                        "fix the key's mode; run it with nothing else using the home folder")
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("keys", help="manage the keys that sign download links",
                       description="rotate: make a new signing key (in the database with WF_WIDGETS_DATABASE_URL, "
                                   "else the home's key file); links signed with the old keys stop working, every "
                                   "server and kernel signs with the new one within seconds.")
    p.add_argument("action", choices=("rotate",))
    p.set_defaults(func=cmd_keys)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wf-widgets`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "action", None) in ("show", "cancel") and not args.job_id:
        parser.error(f"jobs {args.action} needs a job id")
    try:
        return args.func(args)
    except (WfError, ValueError) as exc:
        print(f"wf-widgets {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
