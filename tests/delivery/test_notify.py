"""Notifications (``compute(notify=...)``): signed webhooks to a real receiver on 127.0.0.1, redelivered
from the row (500s, a receiver that never answers, a launching process that is gone), once at the final
terminal state; addresses refused before a job exists and when sending; the outcome email; the secret."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import wf_widgets as wf
from tests._webhook import Receiver
from wf_widgets import cli
from wf_widgets.delivery import notify
from wf_widgets.errors import ValidationError
from wf_widgets.server.testing import wait_for

PUBLIC = "http://127.0.0.1:8999/wf"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "destinations.md"


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def plain(make_backend):
    """A backend with no allow list and no email settings."""
    return make_backend()


@pytest.fixture
def hooked(make_backend):
    """A backend whose webhooks may reach 127.0.0.1, redelivering after 50 ms."""
    return make_backend(webhook_allow="127.0.0.1", public_url=PUBLIC, webhook_backoff_s=0.05)


def state(backend, job_id):
    return backend.jobs.get(job_id, graph=False)


def test_a_webhook_gets_one_signed_event_when_the_job_ends(hooked, receiver, capsys):
    assert cli.main(["webhook-secret"]) == 0
    receiver.secret = capsys.readouterr().out.strip()
    assert len(receiver.secret) == 64
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    job = (wf.Int(1) + 1).compute(tile, format="json", notify={"webhook": receiver.url}, block=False)
    assert job.notify == {"webhook": receiver.url, "email": False}
    job.wait(30)
    wait_for(lambda: state(hooked, job.id)["notify_state"] == "SENT", timeout=30, what="the webhook's delivery")
    [request] = receiver.requests
    assert request["verified"]
    event = request["event"]
    assert {k: event[k] for k in ("event", "job_id", "stage", "error_code", "error_message", "tile_key",
                                  "destination", "format", "attempts")} == {
        "event": "job.finished", "job_id": job.id, "stage": "SUCCEEDED", "error_code": "NONE",
        "error_message": None, "tile_key": tile.key, "destination": "download", "format": "json", "attempts": 1}
    assert event["url"] == job.url and event["url"].startswith(f"{PUBLIC}/results/{job.id}?expires=")
    assert event["expires"] == job.expires_datetime.isoformat().replace("+00:00", "Z")
    assert request["headers"]["X-Wf-Widgets-Delivery"] == job.id
    # Once: later sweeps find nothing due.
    assert hooked.sweep_due() == {"retried": 0, "notified": 0}
    assert len(receiver.requests) == 1


def test_a_failed_job_notifies_with_its_error(hooked, receiver):
    receiver.secret = notify.webhook_secret(hooked)
    job = (wf.Int(1) / 0).compute(notify={"webhook": receiver.url}, block=False)
    wait_for(lambda: len(receiver.requests) == 1, timeout=30, what="the webhook's delivery")
    event = receiver.requests[0]["event"]
    assert (event["stage"], event["error_code"], event["url"]) == ("FAILED", "INVALID", None)
    assert "division" in event["error_message"].lower() and job.refresh().stage == "FAILED"


def test_500s_are_redelivered_with_backoff_until_answered(hooked, receiver):
    receiver.secret = notify.webhook_secret(hooked)
    receiver.plan = [500, 503, 200]
    job = wf.Int(3).compute(notify={"webhook": receiver.url}, block=False)
    wait_for(lambda: state(hooked, job.id)["notify_state"] == "SENT", timeout=30, what="the third delivery")
    assert [r["answer"] for r in receiver.requests] == [500, 503, 200]
    assert all(r["verified"] for r in receiver.requests)
    assert {r["event"]["job_id"] for r in receiver.requests} == {job.id}
    row = state(hooked, job.id)
    assert (row["notify_attempts"], row["notify_error"]) == (3, None)


def test_redeliveries_are_bounded(hooked, receiver, monkeypatch):
    monkeypatch.setattr(notify, "MAX_ATTEMPTS", 3)
    receiver.plan = [500] * 10
    job = wf.Int(3).compute(notify={"webhook": receiver.url}, block=False)
    wait_for(lambda: state(hooked, job.id)["notify_state"] == "FAILED", timeout=30, what="the last delivery")
    assert len(receiver.requests) == 3
    assert state(hooked, job.id)["notify_error"] == "webhook: the webhook answered HTTP 500 (3 deliveries)"
    assert hooked.sweep_due()["notified"] == 0 and len(receiver.requests) == 3


def test_a_receiver_that_never_answers_is_timed_out_and_the_result_does_not_wait(hooked, receiver, monkeypatch):
    monkeypatch.setattr(notify, "TIMEOUT_S", 0.5)
    receiver.secret = notify.webhook_secret(hooked)
    receiver.plan = ["hang", 200]
    assert (wf.Int(1) + 1).compute(notify={"webhook": receiver.url}) == 2  # blocking: the result, not the hook
    job_id = hooked.jobs.list(limit=1)[0]["id"]
    assert state(hooked, job_id)["notify_state"] in ("PENDING", "SENDING")  # the receiver has 0.5 s to answer
    wait_for(lambda: state(hooked, job_id)["notify_state"] == "SENT", timeout=30, what="the second delivery")
    assert [r["answer"] for r in receiver.requests] == ["hang", 200]
    assert state(hooked, job_id)["notify_attempts"] == 2


def test_a_delivery_outlives_the_process_that_launched_the_job(hooked, receiver, tmp_path):
    """The launching process ends before its receiver answers; a sweep of another process delivers from the row."""
    receiver.secret = notify.webhook_secret(hooked)
    receiver.plan = [500]
    code = textwrap.dedent(f"""
        import wf_widgets as wf
        job = wf.Int(7).compute(notify={{"webhook": {receiver.url!r}}}, block=False)
        job.wait(30)
        from wf_widgets.server.testing import wait_for
        def redelivery_planned():
            row = job._backend.jobs.get(job.id, graph=False)
            return row["notify_attempts"] == 1 and row["notify_state"] == "PENDING"

        wait_for(redelivery_planned, timeout=30)  # the first delivery got a 500
        print(job.id)
    """)
    env = dict(os.environ, WF_WIDGETS_HOME=str(hooked.settings.home), WF_WIDGETS_USER=hooked.settings.user,
               WF_WIDGETS_WEBHOOK_ALLOW="127.0.0.1", WF_WIDGETS_PUBLIC_URL=PUBLIC,
               WF_WIDGETS_WEBHOOK_BACKOFF_S="3600")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.strip()
    assert [r["answer"] for r in receiver.requests] == [500]
    assert hooked.sweep_due()["notified"] == 0  # not due yet: an hour later
    later = wf.backend.Backend(wf.config.Settings(home=hooked.settings.home, user=hooked.settings.user,
                                                  webhook_allow="127.0.0.1", now_offset_s=4000.0), sweep=False)
    try:
        assert later.sweep()["notified"] == 1
    finally:
        later.close()
    assert [r["answer"] for r in receiver.requests] == [500, 200]
    assert receiver.requests[1]["verified"] and receiver.requests[1]["event"]["job_id"] == job_id
    assert state(hooked, job_id)["notify_state"] == "SENT"


def test_of_senders_racing_one_claims_a_delivery(hooked, receiver):
    job = wf.Int(1).compute(block=False).wait(30)
    hooked.jobs.write_held()  # rows this process holds, written before a hand edit
    hooked.jobs.db.write("UPDATE jobs SET notify = ?, notify_state = 'PENDING', notify_next = 0 WHERE id = ?",
                         (json.dumps({"webhook": receiver.url, "email": False}), job.id))
    now = hooked.settings.time()
    assert hooked.jobs.claim_notification(job.id, now, 60) is not None
    assert hooked.jobs.claim_notification(job.id, now, 60) is None  # held by the first
    assert hooked.jobs.claim_notification(job.id, now + 61, 60) is not None  # its lease passed: a dead sender


@pytest.mark.parametrize("url, address", [
    ("http://127.0.0.1:9/hook", "127.0.0.1"),
    ("http://localhost:9/hook", None),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ("http://10.1.2.3/hook", "10.1.2.3"),
    ("http://192.168.0.1/hook", "192.168.0.1"),
    ("http://[::1]:9/hook", "::1"),
    ("http://[::ffff:127.0.0.1]:9/hook", None),
])
def test_loopback_link_local_and_private_webhooks_are_refused_before_a_job_exists(plain, url, address):
    with pytest.raises(ValidationError, match="a loopback, link-local or private address; webhooks reach such "
                                              "addresses only when WF_WIDGETS_WEBHOOK_ALLOW lists") as err:
        wf.Int(1).compute(notify={"webhook": url})
    assert err.value.field == "notify.webhook" and err.value.value == url
    if address is not None:
        assert f"resolves to {address}," in str(err.value)
    assert plain.jobs.list() == []


@pytest.mark.parametrize("allow", ["127.0.0.1", "127.0.0.0/8", "localhost, 10.0.0.0/8", "::1/128,127.0.0.1"])
def test_the_allow_list_admits_hosts_and_networks(make_backend, allow):
    backend = make_backend(webhook_allow=allow)
    assert notify.normalize_notify({"webhook": "http://localhost:9/h"}, backend) == {
        "webhook": "http://localhost:9/h", "email": False}


@pytest.mark.parametrize("value, match", [
    ("https://example.org", "notify must be a dict such as"),
    ({"hook": "https://x"}, r"Unknown key 'hook' for 'notify'; allowed: 'webhook', 'email'"),
    ({"webhook": "ftp://example.org/x"}, "notify.webhook must be an http:// or https:// URL with a host"),
    ({"webhook": "https:///nohost"}, "must be an http:// or https:// URL with a host"),
    ({"webhook": 3}, r"notify.webhook must be a URL \(str\)"),
    ({"webhook": "http://no-such-host.invalid/h"}, "does not resolve"),
    ({"email": "yes"}, "notify.email must be True or False"),
    ({"email": True}, "notify.email needs WF_WIDGETS_EMAIL and WF_WIDGETS_SMTP_URL to be set"),
])
def test_bad_notify_values_are_refused_naming_the_field(plain, value, match):
    with pytest.raises(ValidationError, match=match):
        wf.Int(1).compute(notify=value)
    assert plain.jobs.list() == []


def test_nothing_asked_is_no_notification(plain):
    assert notify.normalize_notify(None, plain) is None
    assert notify.normalize_notify({}, plain) is None
    assert notify.normalize_notify({"webhook": None, "email": False}, plain) is None
    job = wf.Int(1).compute(block=False, notify={}).wait(30)
    assert (job.notify, job.refresh()._row.get("notify_state")) == (None, None)


def test_an_address_no_longer_allowed_is_refused_when_sending(hooked, receiver, make_backend):
    job = wf.Int(1).compute(block=False).wait(30)
    hooked.jobs.write_held()  # rows this process holds, written before a hand edit
    hooked.jobs.db.write("UPDATE jobs SET notify = ?, notify_state = 'PENDING', notify_next = 0 WHERE id = ?",
                         (json.dumps({"webhook": receiver.url, "email": False}), job.id))
    strict = make_backend(home=hooked.settings.home)  # the same home, no allow list
    assert notify.deliver(strict, job.id) == "FAILED"
    assert receiver.requests == []
    assert re.match(r"webhook refused: notify.webhook 'http://127.0.0.1:\d+/hook' resolves to 127.0.0.1",
                    state(strict, job.id)["notify_error"])


def test_the_webhook_secret_is_the_users_own_rotatable_or_the_setting(plain, make_backend, capsys):
    assert cli.main(["webhook-secret"]) == 0
    first = capsys.readouterr().out.strip()
    assert cli.main(["webhook-secret"]) == 0 and capsys.readouterr().out.strip() == first
    assert cli.main(["webhook-secret", "--rotate"]) == 0
    second = capsys.readouterr().out.strip()
    assert second != first and notify.webhook_secret(plain) == second
    assert plain.jobs.webhook_secret("user:bob") not in (first, second)  # one per user
    shared = make_backend(webhook_secret="s3cret-of-the-deployment")
    assert notify.webhook_secret(shared) == "s3cret-of-the-deployment"


def test_signatures_cover_the_timestamp_and_the_body():
    body = b'{"job_id":"x"}'
    sig = notify.sign("k", 1700000000, body)
    assert sig == "sha256=" + __import__("hmac").new(b"k", b"1700000000." + body, "sha256").hexdigest()
    assert notify.verify("k", "1700000000", body, sig, now=1700000100)
    assert not notify.verify("k", "1700000001", body, sig, now=1700000100)  # another timestamp
    assert not notify.verify("k", "1700000000", body + b" ", sig, now=1700000100)
    assert not notify.verify("k", "1700000000", body, sig, now=1700000000 + 301)  # too old: a replay


def test_the_verification_snippet_of_the_docs_accepts_a_real_delivery(hooked, receiver):
    code = re.search(r"<!-- webhook-verify -->\n```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    scope: dict = {}
    exec(compile(code, str(DOCS), "exec"), scope)
    secret = notify.webhook_secret(hooked)
    receiver.secret = secret
    wf.Int(5).compute(notify={"webhook": receiver.url})
    wait_for(lambda: receiver.requests, timeout=30, what="the delivery")
    request = receiver.requests[0]
    assert scope["verify_webhook"](secret, request["headers"], request["body"]) is True
    assert scope["verify_webhook"]("another secret", request["headers"], request["body"]) is False
    assert scope["verify_webhook"](secret, request["headers"], request["body"].replace(b"5", b"6")) is False


def test_email_notification_tells_the_outcome(make_backend, smtp, receiver):
    backend = make_backend(email="alice@example.org", smtp_url=f"smtp://127.0.0.1:{smtp.port}",
                           webhook_allow="127.0.0.1", public_url=PUBLIC)
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    job = wf.Int(2).compute(tile, format="json", notify={"email": True, "webhook": receiver.url}, block=False)
    job.wait(30)
    wait_for(lambda: state(backend, job.id)["notify_state"] == "SENT", timeout=30, what="the notifications")
    [(sender, rcpts, raw)] = smtp.handler.messages
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert rcpts == ["alice@example.org"]
    assert msg["Subject"] == f"Workflows: job {job.short_id} SUCCEEDED"
    text = msg.get_content()
    assert f"Job {job.id} ended: SUCCEEDED." in text and f"Tile: {tile.key}" in text
    assert f"Result: {job.url}" in text
    assert len(receiver.requests) == 1
