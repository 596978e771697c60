"""The ``wf-widgets`` command: demo, demo-data, serve, sweep, jobs, catalog, doctor, keys, webhook-secret.

Every command and option is described by ``--help`` (:func:`build_parser`), so a person can
learn the command from it alone. Reading commands (``jobs``, ``jobs show``, ``catalog``,
``doctor`` without ``--repair``) never sweep, and make no store that does not exist yet (a
home without a job store has no jobs); ``sweep`` always sweeps.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import sys
from typing import Any, Sequence

from . import __version__, doctor
from ._context import STAGES
from ._db import describe
from .backend import Backend, get_backend
from .catalog.listing import catalog_listing
from .catalog.product import Product
from .catalog.stac_export import export_stac
from .catalog.store import CatalogStore
from .config import Settings
from .delivery.links import result_url
from .demo import run_demo
from .demo_data import make_demo_data
from .errors import ValidationError, WfError
from .jobs import Job
from .jobs.store import JobStore, short_id
from .migrate import migrate
from .server import standalone
from .server import voila as voila_server
from .server.links import lasting_base

PROG = "wf-widgets"

DESCRIPTION = """\
wf_widgets rebuilds the output destinations of the Descartes Labs Workflows client
(download links, email, a local image catalog) as a self-hosted Python package, with
Jupyter widgets on top. This command runs its demo, serves its download links, and
looks after its home folder: every job, result, catalog image and key lives there."""

EPILOG = """\
The home folder is $WF_WIDGETS_HOME (default ~/.wf_widgets); its settings come from
environment variables WF_WIDGETS_* and <home>/config.toml (see docs/operations.md).

examples:
  wf-widgets demo                  run every example of the documentation, end to end
  wf-widgets serve                 keep download links working after a notebook stops
  wf-widgets jobs                  the 20 most recent jobs
  wf-widgets jobs show 3fa9c2d1    one job, by the id fragment `jobs` shows
  wf-widgets doctor                check the home folder
  wf-widgets COMMAND --help        what COMMAND does and its options"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions and epilogs as written (examples keep their lines); options show their defaults.

    A default of None or False (an option that is off unless given) is not shown.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    s = int(max(0, seconds))
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {s % 60:02d}s" if minutes else f"{s % 60}s"


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)  # pragma: no cover


def _options(spec: dict) -> str:
    """``geotiff (compression=lzw, overviews=True)``: a format's or destination's type and its options."""
    rest = []
    for key, value in spec.items():
        if key == "type":
            continue
        if isinstance(value, dict):  # the catalog image
            value = value.get("id") or value.get("name")
        rest.append(f"{key}={value}")
    return spec.get("type", "?") + (f" ({', '.join(rest)})" if rest else "")


def job_card(job: Job, link: str | None, link_missing: str) -> str:
    """The text ``wf-widgets jobs show`` prints: what a person asks about one job."""
    row = job._row
    now = job._backend.settings.time()
    lines = [f"Job {short_id(job.id)}   {row['stage']}   {row['steps_done']}/{row['steps_total']} steps"]

    def add(name: str, value: Any) -> None:
        lines.append(f"  {name:<12} {value}")

    add("id", job.id)
    if row.get("label"):
        add("context", row["label"])
    add("value", row["kind"])
    add("destination", _options(row["destination"]))
    add("format", _options(row["format"]))
    add("created", f"{_when(row['created'])} UTC")
    if row.get("started") is not None:
        end = row.get("finished") or now
        add("started", f"{_when(row['started'])} UTC ({'ran' if row.get('finished') else 'running for'} "
                       f"{_duration(end - row['started'])})")
    if row.get("finished") is not None:
        add("finished", f"{_when(row['finished'])} UTC")
    if row["stage"] == "FAILED":
        add("error", f"{row['error_code']}: {row.get('error_message') or ''}")
    elif row["stage"] == "CANCELLED":
        add("cancelled", row.get("error_message") or "yes")
    elif row.get("cancel_requested"):
        add("cancel", "requested")
    if row.get("result_path"):
        if row.get("result_problem"):
            state = f"lost: {row['result_problem']}"
        elif row.get("result_deleted"):
            state = "deleted at its expiry"
        elif row.get("expires") is not None:
            left = row["expires"] - now
            state = f"expires {_when(row['expires'])} UTC ({'in ' + _duration(left) if left > 0 else 'expired'})"
        else:
            state = "stored"
        add("result", f"{_size(row.get('result_size'))} {row.get('result_mimetype') or ''}, {state}")
    ref = row.get("result_ref")
    if isinstance(ref, dict) and ref.get("id"):
        add("image", ref["id"])
    if isinstance(ref, dict) and ref.get("url") and row["destination"].get("type") == "storage":
        add("object", f"{ref['url']} ({_size(ref.get('size'))})")
    if row["stage"] == "SUCCEEDED" and row.get("result_path") and row.get("link_revoked"):
        add("link", "revoked (job.revoke_link())")
    elif row["stage"] == "SUCCEEDED" and row.get("result_path") and not row.get("result_deleted"):
        expired = row.get("expires") is not None and row["expires"] <= now
        add("link", "none: the result has expired" if expired else link or link_missing)
    return "\n".join(lines)


def _json_row(row: dict) -> dict:
    out = dict(row)
    out.pop("graph", None)
    for key in ("created", "started", "finished", "updated", "expires", "heartbeat"):
        out[key] = _when(out.get(key))
    return out


def cmd_jobs(args: argparse.Namespace) -> int:
    backend = get_backend()
    action = args.action or "list"
    if not JobStore.exists(backend.settings):  # no job was ever launched here: make no store to say so
        if action == "list":
            print("[]" if args.json else f"no jobs in {describe(backend.settings)}")
            return 0
        raise ValidationError(f"No job with id {args.job_id!r} in {describe(backend.settings)}", field="job_id",
                              value=args.job_id)
    if action == "show":
        job = Job.get(args.job_id)
        link = None
        if (job.stage == "SUCCEEDED" and job._row.get("result_path") and not job._row.get("result_deleted")
                and not job._row.get("link_revoked")):
            # Only a server that outlives this command can serve the link (one started here would
            # stop when it ends, and start a sweep on its way up).
            base = lasting_base(backend)
            link = result_url(backend.signer, base, job.id, job._row["expires"]) if base else None
        if args.json:
            row = _json_row(job._backend.jobs.get(job.id, graph=False))
            row["link"] = link
            print(json.dumps(row, indent=2, default=str))
        else:
            print(job_card(job, link, "none while no server runs (start one with `wf-widgets serve`, or set "
                                      "WF_WIDGETS_PUBLIC_URL)"))
        return 0
    if action == "cancel":
        job = Job.get(args.job_id)
        ok = job.cancel()
        print(f"cancel requested for job {job.short_id} ({job.id})" if ok else
              f"job {job.short_id} ({job.id}) had already ended: {job.stage}")
        return 0
    rows = backend.jobs.list(limit=args.limit, stages=args.stage or None, owner=backend.settings.user)  # own jobs
    if args.json:
        print(json.dumps([_json_row(r) for r in rows], indent=2, default=str))
        return 0
    if not rows:
        print(f"no jobs in {describe(backend.settings)}" + (f" in stage {', '.join(args.stage)}" if args.stage else ""))
        return 0
    width = max([7] + [len(r["label"] or "") for r in rows])
    print(f"{'job':<8}  {'context':<{width}}  {'stage':<9}  {'steps':>9}  {'destination':<11}  {'format':<7}  "
          f"{'created (UTC)':<19}  id")
    for r in rows:
        steps = f"{r['steps_done']}/{r['steps_total']}"
        print(f"{short_id(r['id']):<8}  {r['label'] or '-':<{width}}  {r['stage']:<9}  {steps:>9}  "
              f"{r['destination']['type']:<11}  {r['format']['type']:<7}  {_when(r['created']):<19}  {r['id']}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    counts = Backend(sweep=False).sweep()
    print(f"deleted {counts['expired']} expired result(s); marked {counts['reaped']} interrupted job(s); "
          f"found {counts['damaged']} missing or damaged result(s); deleted {counts['leftovers']} leftover "
          f"temporary file(s); started {counts['retried']} due retry(ies); sent {counts['notified']} "
          "notification(s)")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    backend = get_backend()
    root = backend.settings.home / "catalog"
    if not CatalogStore.exists(backend.settings):  # nothing was ever added: make no store to say so
        print(f"Catalog {root} (as {backend.settings.user}): 0 product(s)")
        return 0
    print(catalog_listing(backend))
    return 0


def cmd_catalog_export_stac(args: argparse.Namespace) -> int:
    """``catalog export-stac PRODUCT DIR``: the product as a self-contained static STAC catalog."""
    backend = get_backend()
    print(export_stac(backend.catalog, backend.storage, args.product, args.dir, copy=args.copy))
    return 0


def cmd_catalog_import(args: argparse.Namespace) -> int:
    fields = {"readers": args.reader} if args.reader else None
    summary = Product.import_files(args.product, args.files, acquired=args.acquired, copy=args.copy,
                                   on_error=args.on_error, progress=not args.quiet, product_fields=fields)
    print(summary)
    return 0 if summary.ok else 1


def cmd_demo_data(args: argparse.Namespace) -> int:
    product = make_demo_data(force=args.force)
    print(f"demo product {product.id} ready ({len(list(product.images()))} images)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return standalone.main(["--host", args.host, "--port", str(args.port)]
                           + (["--public-url", args.public_url] if args.public_url else []))


def cmd_doctor(args: argparse.Namespace) -> int:
    return doctor.main(repair=args.repair)


def cmd_webhook_secret(args: argparse.Namespace) -> int:
    """``webhook-secret [--rotate]``: the secret this user's webhooks are signed with (a new one with --rotate)."""
    backend = get_backend()
    if backend.settings.webhook_secret:
        if args.rotate:
            print(f"{PROG} webhook-secret: WF_WIDGETS_WEBHOOK_SECRET is set: webhooks are signed with it; change it "
                  "there (it cannot be rotated here)", file=sys.stderr)
            return 1
        print(backend.settings.webhook_secret)
        return 0
    jobs = backend.jobs
    user = backend.settings.user
    print(jobs.rotate_webhook_secret(user) if args.rotate else jobs.webhook_secret(user))
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """``keys rotate``: a new signing key; links signed with the old ones stop working."""
    print(get_backend().signer.rotate())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """``migrate``: copy this home's stores into a database and an object store, then verify them."""
    source = Settings.from_env()
    target = dataclasses.replace(source, database_url=args.to_database, storage_url=args.to_storage)
    report = migrate(source, target, resume=args.resume, progress=print)
    print("done: " + "; ".join(report.lines()))
    key = source.home / "signing.key"
    if source.database_url is None and key.exists():
        print(f"Links made so far are signed with {key}: to keep them valid, start servers and kernels with "
              f"WF_WIDGETS_SIGNING_KEY=$(base64 -w0 {key}) the first time (it seeds the database's keys).")
    print(f"Now set WF_WIDGETS_DATABASE_URL and WF_WIDGETS_STORAGE_URL={target.storage} for the notebooks, workers and "
          "servers (see docs/operations.md, \"Run on a cluster\").")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo()


def cmd_voila(args: argparse.Namespace) -> int:
    voila_server.main(args.voila_args)
    return 0


def _job_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job_id", metavar="JOB",
                        help="the job: its id, any prefix of it only one job has, or the 8 characters "
                             "`wf-widgets jobs` and the jobs board show (the start of the id's random part)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``wf-widgets``: every command and option has its help text."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    def command(name: str, help: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=HelpFormatter)

    p = command(
        "demo", "run the documentation's examples end to end, on demo data",
        "Run every example of the Output Destinations documentation of the Workflows client (the\n"
        "document this package rebuilds): compute values and download them in each format, email a\n"
        "result, upload a composite into a catalog product (one tile, then a 3x3 block of tiles),\n"
        "and fetch a download link. Makes the demo product sentinel-1:GRD in the home folder first.\n"
        "Without WF_WIDGETS_SMTP_URL, email goes to a loopback SMTP server that prints the message.",
        "example:\n  WF_WIDGETS_HOME=/tmp/wf-demo wf-widgets demo    (a throwaway home folder)")
    p.set_defaults(func=cmd_demo)

    p = command("demo-data", "make the demo product sentinel-1:GRD",
                "Make the demo product sentinel-1:GRD (20 small synthetic Sentinel-1 scenes near Santa Fe,\n"
                "public-read) in the home folder's catalog, unless it is there already.")
    p.add_argument("--force", action="store_true", help="make it again even if it exists")
    p.set_defaults(func=cmd_demo_data)

    p = command(
        "serve", "serve download links (and map tiles) until stopped",
        "Serve the home folder's download links, map tiles and catalog (STAC) until Ctrl-C. While it\n"
        "runs, notebooks and scripts sharing the home folder put its address in the links they\n"
        "make, so links keep working after they stop. Sweeps expired results at start and hourly.",
        "examples:\n  wf-widgets serve\n"
        "  wf-widgets serve --host 0.0.0.0 --public-url https://data.example.org/wf-widgets")
    p.add_argument("--host", default=standalone.DEFAULT_HOST,
                   help="address to listen on; one other than a loopback address (127.0.0.1, localhost) "
                        "needs --public-url")
    p.add_argument("--port", type=int, default=standalone.DEFAULT_PORT, help="port to listen on (0: any free port)")
    p.add_argument("--public-url", default=None, metavar="URL",
                   help="the base URL others reach this server at, which links then carry")
    p.set_defaults(func=cmd_serve)

    p = command(
        "voila", "serve a notebook as a dashboard (Voila), with tiles and links through Voila's own server",
        "Run Voila (pip install voila) on a notebook or a folder, as the `voila` command does, with this\n"
        "package's handlers served by Voila's own server under <base_url>wf-widgets/: maps fetch tiles\n"
        "from the page's own address, so visitors on other machines see live tiles (plain `voila` loads\n"
        "no server extension: tiles would come from 127.0.0.1 inside the kernel, which they cannot reach).\n"
        "Set WF_WIDGETS_PUBLIC_URL to the address visitors use for download links that work for them.",
        "examples:\n  wf-widgets voila examples/map_export.ipynb\n"
        "  WF_WIDGETS_PUBLIC_URL=https://dash.example.org/wf-widgets \\\n"
        "    wf-widgets voila teaching.ipynb --Voila.ip=0.0.0.0 --Voila.port=8866\n"
        "See docs/widgets.md, section Voila.")
    p.add_argument("voila_args", nargs=argparse.REMAINDER, metavar="VOILA_ARGS",
                   help="a notebook or folder, then any `voila` option (--Voila.ip=..., --Voila.port=..., ...)")
    p.set_defaults(func=cmd_voila)

    p = command("sweep", "delete expired results and tidy the home folder now",
                "Housekeeping, now: delete results past their expiry, mark jobs whose worker died as\n"
                "FAILED (INTERRUPT), check stored results (size and checksum), and delete temporary files\n"
                "left by killed writers. Launches and servers do this by themselves about hourly.")
    p.set_defaults(func=cmd_sweep)

    p = command(
        "jobs", "list recent jobs, show one, cancel one",
        "The jobs of the home folder. Without an action, lists the most recent ones. A job is named\n"
        "by its context (the DLTile key) and the 8 characters of its id that differ between jobs\n"
        "launched together; `show` and `cancel` take those, or any unique start of the id.",
        "examples:\n  wf-widgets jobs\n  wf-widgets jobs list --stage FAILED --limit 100\n"
        "  wf-widgets jobs show 3fa9c2d1\n  wf-widgets jobs show 3fa9c2d1 --json\n  wf-widgets jobs cancel 3fa9c2d1")
    p.set_defaults(func=cmd_jobs, action=None, limit=20, stage=None, json=False)
    actions = p.add_subparsers(dest="action", metavar="ACTION", title="actions")
    a = actions.add_parser("list", help="the most recent jobs, newest first (the default action)",
                           description="The most recent jobs, newest first: short id, context, stage, steps, "
                                       "destination, format, creation time and the whole id.",
                           formatter_class=HelpFormatter)
    a.add_argument("--limit", type=int, default=20, help="how many jobs to list at most")
    a.add_argument("--stage", action="append", choices=STAGES, metavar="STAGE",
                   help=f"only jobs in this stage (repeat for several): {', '.join(STAGES)}")
    a.add_argument("--json", action="store_true", help="print a JSON list of rows (for programs)")
    a = actions.add_parser("show", help="one job: stage, context, options, timing, result, link",
                           description="Show one job: its stage and steps, context, destination and format "
                                       "with their options, timing, error, result and download link.",
                           epilog="example:\n  wf-widgets jobs show 3fa9c2d1", formatter_class=HelpFormatter)
    _job_arg(a)
    a.add_argument("--json", action="store_true", help="print the job's row as JSON (for programs)")
    a = actions.add_parser("cancel", help="ask a job to stop",
                           description="Ask a job to stop (it stops at its next step; a queued job at once).",
                           epilog="example:\n  wf-widgets jobs cancel 3fa9c2d1", formatter_class=HelpFormatter)
    _job_arg(a)

    p = command("catalog", "list catalog products, bands and images; import files; export STAC",
                "List the products of the home folder's catalog that you may read, with their bands and\n"
                "images. `catalog import` imports GeoTIFFs into a product; `catalog export-stac` writes one\n"
                "as a static STAC catalog.")
    p.set_defaults(func=cmd_catalog)
    catalog_actions = p.add_subparsers(dest="action", metavar="ACTION", title="actions")
    a = catalog_actions.add_parser(
        "import", help="import GeoTIFFs (files, folders, globs, http(s):// or s3:// URLs) into a product",
        description="Import raster files as images of PRODUCT (made if missing), one image per file, named after\n"
                    "the file: bands from the files, COGs referenced in place, other files converted to COGs\n"
                    "in the catalog's storage. Running it again leaves unchanged images alone. A file that\n"
                    "can't be imported is reported by name and the others go on (exit status 1).",
        epilog="examples:\n  wf-widgets catalog import org:s1 data/*.tif --acquired 'S1_{date:%Y%m%d}_*.tif'\n"
               "  wf-widgets catalog import org:dem https://example.org/dem.tif --reader group:public\n"
               "See docs/catalog.md.", formatter_class=HelpFormatter)
    a.add_argument("product", metavar="PRODUCT", help="the product id ('org:name')")
    a.add_argument("files", nargs="+", metavar="FILES", help="files, folders, glob patterns or URLs")
    a.add_argument("--acquired", default=None,
                   help="'tag' (TIFFTAG_DATETIME, the default when present), a file name pattern like "
                        "'S1_{date:%%Y%%m%%d}_*.tif', or one ISO date for all")
    a.add_argument("--copy", action="store_true", help="convert every file to a COG in the catalog's storage "
                                                       "(default: COGs are referenced in place)")
    a.add_argument("--on-error", choices=("continue", "raise"), default="continue",
                   help="stop at the first file that fails (raise) or report it and go on (continue)")
    a.add_argument("--reader", action="append", metavar="PRINCIPAL",
                   help="a reader of a product the import makes (repeat; 'group:public' for everyone)")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=cmd_catalog_import)
    a = catalog_actions.add_parser(
        "export-stac", help="write a product as a self-contained static STAC catalog",
        description="Write a product you may read as a static STAC catalog in DIR: DIR/collection.json, and\n"
                    "per image DIR/<name>/<name>.json with its COG beside it (hard-linked from the catalog\n"
                    "when it can, else copied). Every link is relative, so the folder can be moved or served\n"
                    "as it is; it is read back and checked before the command ends.",
        epilog="example:\n  wf-widgets catalog export-stac sentinel-1:GRD /tmp/s1-stac", formatter_class=HelpFormatter)
    a.add_argument("product", metavar="PRODUCT", help="the product id")
    a.add_argument("dir", metavar="DIR", help="a folder that does not exist yet, or an empty one")
    a.add_argument("--copy", action="store_true",
                   help="copy the COGs instead of hard-linking them (a hard link keeps the catalog file's "
                        "permissions: readable by you alone)")
    a.set_defaults(func=cmd_catalog_export_stac)

    p = command("doctor", "check the home folder (stores, orphan files, signing key, disk space)",
                "Check the home folder: the integrity of each store, result and blob files no row uses,\n"
                "the signing key, free disk space. Exit status 1 when a problem remains.")
    p.add_argument("--repair", action="store_true",
                   help="move broken stores aside (a new one is made at next use), delete orphan files, "
                        "fix the key's mode; run it with nothing else using the home folder")
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("keys", help="manage the keys that sign download links",
                       description="rotate: make a new signing key (in the database with WF_WIDGETS_DATABASE_URL, "
                                   "else the home's key file); links signed with the old keys stop working, every "
                                   "server and kernel signs with the new one within seconds.")
    p.add_argument("action", choices=("rotate",),
                   help="rotate: make a new key and sign with it from now on (the only action)")
    p.set_defaults(func=cmd_keys)
    p = command(
        "webhook-secret", "show (or rotate) the secret your webhooks are signed with",
        "Print the secret that signs the webhooks of your jobs (compute(notify={'webhook': url})):\n"
        "WF_WIDGETS_WEBHOOK_SECRET when set, else your own, made at its first use and kept in the job\n"
        "store. Receivers check the X-WF-Widgets-Signature header with it (docs/destinations.md).",
        "examples:\n  wf-widgets webhook-secret\n  wf-widgets webhook-secret --rotate")
    p.add_argument("--rotate", action="store_true",
                   help="replace your secret with a new random one (deliveries from now on are signed with it)")
    p.set_defaults(func=cmd_webhook_secret)
    p = command("migrate", "copy the home's jobs, catalog, layers and files into PostgreSQL and an object store",
                "Copy the rows of the job, catalog and layer stores of $WF_WIDGETS_HOME (or of the database\n"
                "and store its settings name) into the database --to-database, and the stored results,\n"
                "catalog rasters and blobs into --to-storage; then check that every row is there and every\n"
                "object's SHA-256 matches. A target holding anything is refused unless --resume is given\n"
                "(what is there is kept, what is missing is copied: run it again after an interruption).\n\n"
                "example:\n  wf-widgets migrate --to-database postgresql://wf:secret@db:5432/wf "
                "--to-storage s3://bucket/wf")
    p.add_argument("--to-database", required=True, metavar="URL",
                   help="the target database: postgresql://user:password@host:port/database (or sqlite:///path)")
    p.add_argument("--to-storage", required=True, metavar="URL",
                   help="the target object store: s3://bucket/prefix (AWS variables for credentials and endpoint) "
                        "or file:///folder")
    p.add_argument("--resume", action="store_true",
                   help="copy into a target that is not empty (continue an interrupted migration)")
    p.set_defaults(func=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wf-widgets`` console script."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "voila":
            parser.parse_args(argv)  # reports the unknown arguments as argparse does, and exits
        args.voila_args = [*extra, *args.voila_args]  # `voila` options before the notebook: Voila takes any order
    try:
        return args.func(args)
    except (WfError, ValueError) as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
