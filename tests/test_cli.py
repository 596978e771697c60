"""The wf-widgets command, run as a newcomer would."""

import argparse
import json
import os
import re
import subprocess
import sys

import pytest

import wf_widgets as wf
from wf_widgets import cli
from wf_widgets.backend import Backend, set_backend
from wf_widgets.config import Settings
from wf_widgets.errors import JobCancelled
from wf_widgets.jobs.store import JobStore

from .jobs.conftest import slow_value
from .test_sqlite import corrupt

DAY = 86400.0


def wf_widgets(*args, home, timeout=300, merged=False, **env):
    """Run ``python -m wf_widgets.cli ARGS``; ``merged``: stderr goes into stdout, in the order written."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    environ.update(WF_WIDGETS_HOME=str(home), **env)
    streams = dict(stdout=subprocess.PIPE, stderr=subprocess.STDOUT) if merged else dict(capture_output=True)
    return subprocess.run([sys.executable, "-m", "wf_widgets.cli", *args], env=environ, text=True, timeout=timeout,
                          **streams)


@pytest.mark.timeout(300)
def test_demo_runs_every_destination_and_leaves_nothing_running(tmp_path):
    out = wf_widgets("demo", home=tmp_path, merged=True)
    assert out.returncode == 0, out.stdout[-3000:]
    text = out.stdout
    # What a terminal shows: no warnings from parallel reads, and the note that links live as long as
    # the demo's process once, next to the first link it prints (not when a server starts).
    assert "Warning" not in text and "Traceback" not in text
    note = "wf_widgets: This download link is served by the Python process that made it"
    assert text.count(note) == 1 and "only while this kernel runs" not in text
    assert text.index("=== A download link ===") < text.index(note) < text.index("fetched it: HTTP 200")
    for expected in ("=== Download ===", "b'2'", "Subject: Workflows: My Computation is Done",
                     "Image: my_image\n  id: demo:composites:my_image\n  product: demo:composites\n  created: ",
                     "9 jobs SUCCEEDED", "fetched it: HTTP 200, 1 bytes, application/json: b'2'",
                     "wf-widgets serve", "Demo finished"):
        assert expected in text, expected
    assert "[######] | Steps: 23/23 | Stage: SUCCEEDED" in text
    assert not list((tmp_path / "servers").glob("*.json"))  # the demo's server stopped with it
    listing = wf_widgets("catalog", home=tmp_path)
    assert "sentinel-1:GRD" in listing.stdout and "demo:composites" in listing.stdout
    assert "    my_image  acquired" in listing.stdout


def test_demo_fails_clearly(tmp_path):
    (tmp_path / "config.toml").write_text("retention_days = -1\n")
    out = wf_widgets("demo", home=tmp_path)
    assert out.returncode == 1
    assert "retention_days must be a positive number" in out.stderr


def test_jobs_cancel_needs_an_id(tmp_path):
    out = wf_widgets("jobs", "cancel", home=tmp_path)
    assert out.returncode == 2
    # the usage of `jobs cancel`, not of the whole command
    assert out.stderr == ("usage: wf-widgets jobs cancel [-h] JOB\n"
                          "wf-widgets jobs cancel: error: the following arguments are required: JOB\n")


def help_text(capsys, *args) -> str:
    with pytest.raises(SystemExit) as info:
        cli.main([*args, "--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


def test_help_says_what_the_command_is_without_markup(capsys):
    text = help_text(capsys)
    assert text.startswith("usage: wf-widgets [-h] [--version] COMMAND ...\n\nwf_widgets rebuilds the output "
                           "destinations of the Descartes Labs Workflows client")
    assert "``" not in text and ":mod:" not in text and "the spec" not in text
    for name in ("demo", "demo-data", "serve", "sweep", "jobs", "catalog", "doctor"):
        assert re.search(rf"^    {name}\s", text, re.M), name
    assert "examples:\n  wf-widgets demo" in text and "$WF_WIDGETS_HOME (default ~/.wf_widgets)" in text
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"wf-widgets {wf.__version__}\n"


def parsers(parser, path=()):
    """Every (command path, parser) of ``parser``, nested subcommands included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from parsers(child, (*path, name))


def test_every_command_and_option_is_described_with_its_default(capsys):
    found = list(parsers(cli.build_parser()))
    assert {" ".join(path) for path, _ in found} >= {"demo", "demo-data", "serve", "sweep", "jobs", "jobs list",
                                                    "jobs show", "jobs cancel", "catalog", "doctor"}
    for path, parser in found:
        assert parser.description and len(parser.description) > 40, path
        text = help_text(capsys, *path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) or action.dest in ("help", "version"):
                continue
            assert action.help, (path, action.dest)
            if action.default not in (None, False):
                assert f"(default: {action.default})" in " ".join(text.split()), (path, action.dest)
        assert "(default: None)" not in text and "(default: False)" not in text
    serve = " ".join(help_text(capsys, "serve").split())
    assert "(default: 127.0.0.1)" in serve and "(default: 8765)" in serve


def test_jobs_list_show_and_cancel_by_the_fragment_people_see(backend, monkeypatch, capsys):
    monkeypatch.setenv("WF_WIDGETS_HOME", str(backend.settings.home))
    tiles = wf.DLTile.from_shape({"type": "Polygon", "coordinates": [[[-105.95, 35.68], [-105.93, 35.68],
                                 [-105.93, 35.69], [-105.95, 35.69], [-105.95, 35.68]]]}, 10, 256, 0)[:2]
    done = [(wf.Int(1) + 1).compute(tile, format="json", block=False) for tile in tiles]
    for job in done:
        job.wait(30)
    assert cli.main(["jobs"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["job", "context", "stage", "steps", "destination", "format", "created", "(UTC)", "id"]
    # Newest first, by id: its first 12 characters are the creation time in ms (the same for jobs
    # launched within a millisecond, which then come in the order of their random part).
    for job, line in zip(sorted(done, key=lambda j: j.id, reverse=True), listing[1:]):
        assert line.startswith(f"{job.short_id}  {job.label}  SUCCEEDED") and line.endswith(job.id)

    job = done[0]
    assert cli.main(["jobs", "show", job.short_id]) == 0
    card = capsys.readouterr().out
    assert card.splitlines()[:3] == [f"Job {job.short_id}   SUCCEEDED   3/3 steps", f"  id           {job.id}",
                                     f"  context      {tiles[0].key}"]
    assert "  destination  download\n  format       json\n  created      " in card
    assert re.search(r"\n  result       1 bytes application/json, expires .* UTC \(in 9d 23h\)\n", card)
    assert "{" not in card  # no raw JSON
    # No server outlives the command: one started by it would stop with it (and sweep on its way up).
    assert card.endswith("\n  link         none while no server runs (start one with `wf-widgets serve`, or set "
                         "WF_WIDGETS_PUBLIC_URL)\n")
    assert cli.main(["jobs", "show", job.short_id, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["id"] == job.id and row["stage"] == "SUCCEEDED" and row["label"] == tiles[0].key and "graph" not in row

    running = slow_value().compute(block=False)
    assert cli.main(["jobs", "cancel", running.short_id]) == 0
    assert capsys.readouterr().out == f"cancel requested for job {running.short_id} ({running.id})\n"
    with pytest.raises(JobCancelled):
        running.wait(30)
    assert running.stage == "CANCELLED"
    assert cli.main(["jobs", "list", "--stage", "CANCELLED"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == [running.short_id]

    common = os.path.commonprefix([j.id for j in done])
    assert cli.main(["jobs", "show", common]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"wf-widgets jobs: {common!r} matches ") and "give more of the id" in err
    assert cli.main(["jobs", "show", "0123456789abcdef"]) == 1
    assert "No job with id '0123456789abcdef'" in capsys.readouterr().err


def test_sweep_reports_counts(tmp_path):
    out = wf_widgets("sweep", home=tmp_path)
    assert out.returncode == 0 and "deleted 0 expired result(s)" in out.stdout


def broken_home(tmp_path):
    """A home whose job store has garbage over its first pages."""
    home = tmp_path / "home"
    backend = Backend(Settings(home=home))
    backend.jobs  # opens (makes) the store
    backend.close()
    corrupt(home / "jobs.sqlite")
    return home


def test_a_corrupted_job_store_is_one_clear_error(tmp_path):
    home = broken_home(tmp_path)
    out = wf_widgets("jobs", home=home)
    assert out.returncode == 1
    assert out.stderr.startswith(f"wf-widgets jobs: The store {home / 'jobs.sqlite'} is corrupted (file is not a "
                                 "database). Run `wf-widgets doctor --repair`")
    assert "Traceback" not in out.stderr


def test_doctor_reports_and_repairs(tmp_path):
    home = broken_home(tmp_path)
    out = wf_widgets("doctor", home=home)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"PROBLEM  jobs store     {home / 'jobs.sqlite'} is corrupted: file is not a database" in out.stdout
    out = wf_widgets("doctor", "--repair", home=home)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "repaired: moved aside to jobs.sqlite.broken-" in out.stdout
    out = wf_widgets("jobs", home=home)
    assert out.returncode == 0 and f"no jobs in {home}" in out.stdout
    assert wf_widgets("doctor", home=home).returncode == 0


def test_sweep_command(backend, monkeypatch, capsys):
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    monkeypatch.setenv("WF_WIDGETS_HOME", str(backend.settings.home))
    monkeypatch.setenv("WF_WIDGETS_NOW_OFFSET_S", str(11 * DAY))
    assert cli.main(["sweep"]) == 0
    assert "deleted 1 expired result(s)" in capsys.readouterr().out
    assert backend.jobs.get(job.id)["result_deleted"] == 1


def test_reading_commands_make_nothing_in_a_new_home(tmp_path):
    home = tmp_path / "home"
    out = wf_widgets("jobs", home=home)
    assert out.returncode == 0 and out.stdout == f"no jobs in {home}\n"
    out = wf_widgets("jobs", "show", "a" * 48, home=home)
    assert out.returncode == 1 and f"wf-widgets jobs: No job with id '{'a' * 48}' in {home}" in out.stderr
    out = wf_widgets("catalog", home=home)
    assert out.returncode == 0 and out.stdout.startswith(f"Catalog {home / 'catalog'} (as user:")
    assert out.stdout.endswith(": 0 product(s)\n")
    out = wf_widgets("doctor", home=home)
    assert out.returncode == 0 and "does not exist yet" in out.stdout
    assert not home.exists()


def test_reading_commands_never_sweep(tmp_path):
    home = tmp_path / "home"
    backend = Backend(Settings(home=home), sweep=False)
    previous = set_backend(backend)
    try:
        job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    finally:
        set_backend(previous)
        backend.close()
    result = home / "results" / job._row["result_path"]
    orphan = home / "results" / ("c" * 48 + ".json")
    orphan.write_bytes(b"x")
    later = {"WF_WIDGETS_NOW_OFFSET_S": str(11 * DAY)}  # the result has expired: a sweep would delete it
    assert job.id in wf_widgets("jobs", home=home, **later).stdout
    out = wf_widgets("jobs", "show", job.id, home=home, **later)
    assert out.returncode == 0 and f"\n  id           {job.id}\n" in out.stdout
    assert "\n  link         none: the result has expired\n" in out.stdout
    assert not (home / "servers").exists() or not list((home / "servers").glob("*.json"))
    assert wf_widgets("catalog", home=home, **later).returncode == 0
    out = wf_widgets("doctor", home=home, **later)
    assert out.returncode == 1 and "1 result file(s) no job row owns" in out.stdout
    assert orphan.exists() and result.exists()
    store = JobStore(Settings(home=home))
    try:
        assert store.get(job.id)["result_deleted"] == 0 and store.last_sweep() is None
    finally:
        store.close()


def test_jobs_show_says_a_link_was_revoked_and_shows_a_storage_object(backend, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("WF_WIDGETS_HOME", str(backend.settings.home))
    backend.settings.public_url = "https://example.org/wf"  # a server that outlives the command
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    assert cli.main(["jobs", "show", job.short_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["link"].startswith("https://example.org/wf/results/")
    job.revoke_link()
    assert cli.main(["jobs", "show", job.short_id]) == 0
    assert capsys.readouterr().out.endswith("\n  link         revoked (job.revoke_link())\n")
    assert cli.main(["jobs", "show", job.short_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["link"] is None
    backend.settings.storage_roots = str(tmp_path)
    stored = (wf.Int(1) + 1).compute(destination={"type": "storage", "url": f"file://{tmp_path}/{{job_id}}.json"},
                                     format="json", block=False).wait(30)
    assert cli.main(["jobs", "show", stored.short_id]) == 0
    assert f"\n  object       file://{tmp_path}/{stored.id}.json (1 bytes)" in capsys.readouterr().out


def test_webhook_secret_shows_the_users_secret_rotates_it_and_names_a_shared_one(tmp_path):
    first = wf_widgets("webhook-secret", home=tmp_path, timeout=60)
    assert first.returncode == 0, first.stderr
    secret = first.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert wf_widgets("webhook-secret", home=tmp_path, timeout=60).stdout.strip() == secret  # kept
    rotated = wf_widgets("webhook-secret", "--rotate", home=tmp_path, timeout=60)
    assert rotated.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}", rotated.stdout.strip())
    assert rotated.stdout.strip() != secret
    assert wf_widgets("webhook-secret", home=tmp_path, timeout=60).stdout.strip() == rotated.stdout.strip()
    other = wf_widgets("webhook-secret", home=tmp_path, timeout=60, WF_WIDGETS_USER="user:bob").stdout.strip()
    assert other not in (secret, rotated.stdout.strip())  # one per user
    shared = wf_widgets("webhook-secret", home=tmp_path, timeout=60, WF_WIDGETS_WEBHOOK_SECRET="the-deployments")
    assert shared.stdout == "the-deployments\n"
    refused = wf_widgets("webhook-secret", "--rotate", home=tmp_path, timeout=60,
                         WF_WIDGETS_WEBHOOK_SECRET="the-deployments")
    assert refused.returncode == 1
    assert "WF_WIDGETS_WEBHOOK_SECRET is set: webhooks are signed with it; change it there" in refused.stderr
