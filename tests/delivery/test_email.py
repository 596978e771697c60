"""The email destination against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import email.policy
import html
import math
import re
import shutil
import subprocess

import pytest

import wf_widgets as wf
from wf_widgets.delivery import mailer
from wf_widgets.errors import EmailResultNotLoaded, JobDestination, ValidationError
from wf_widgets.server.testing import fetch, free_port

ALWAYS = math.inf
SUBJECT = "My Computation is Done"


def _email_job(subject=SUBJECT, body=None, fmt="json"):
    dest = {"type": "email", "subject": subject}
    if body is not None:
        dest["body"] = body
    job = (wf.Int(1) + 1).compute(destination=dest, format=fmt, block=False)
    try:
        job.wait(60)
    except JobDestination:  # wait() raises the job's error; the tests of failures read the job
        pass
    return job


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def _parts(msg):
    """(text, html) parts, with line endings as LF."""
    text = msg.get_body(preferencelist=("plain",)).get_content()
    body_html = msg.get_body(preferencelist=("html",)).get_content()
    return text.replace("\r\n", "\n"), body_html.replace("\r\n", "\n")


def test_email_carries_subject_link_expiry_and_warning(backend, smtp):
    job = _email_job()
    assert job.stage == "SUCCEEDED", job._row["error_message"]
    assert len(smtp.handler.messages) == 1
    mail_from, rcpt_tos, raw = smtp.handler.messages[0]
    assert rcpt_tos == ["alice@example.org"]
    msg = _parse(raw)
    assert msg["Subject"] == "Workflows: My Computation is Done"
    assert msg["To"] == "alice@example.org"
    assert msg["From"] == mail_from and mail_from.startswith("wf_widgets@")
    assert msg.get_content_type() == "multipart/alternative"
    text, body_html = _parts(msg)

    url = job.url
    expiry = mailer.human_utc(job.expires_datetime.timestamp())
    assert re.search(r"\w+day \d{1,2} \w+ \d{4}, \d\d:\d\d UTC", expiry)
    assert "Your Workflows job is done." in text  # the default body
    assert url in text
    assert f"The link expires on {expiry}." in text
    assert "Anyone with the link can download the data" in text
    assert f'href="{html.escape(url, quote=True)}"' in body_html
    assert html.escape(expiry) in body_html
    assert "Anyone with the link can download the data" in body_html
    assert job.id in text

    # The link works, from the server that is running now.
    links = re.findall(r"https?://\S+", text)
    assert links == [url]
    r = fetch(links[0])
    assert r.status == 200 and r.body == b"2"


def test_a_kernel_thread_link_says_it_lives_with_the_kernel(backend, smtp):
    _email_job()
    text, body_html = _parts(_parse(smtp.handler.messages[0][2]))
    assert "only while that process runs" in text and "only while that process runs" in body_html


def test_public_url_links_have_no_kernel_note(make_backend, smtp):
    make_backend(email="alice@example.org", smtp_url=f"smtp://127.0.0.1:{smtp.port}",
                 public_url="https://data.example.org/wf")
    job = _email_job()
    text, _ = _parts(_parse(smtp.handler.messages[0][2]))
    assert f"https://data.example.org/wf/results/{job.id}?expires=" in text
    assert "kernel" not in text


def test_body_may_span_lines_and_is_escaped_in_html(backend, smtp):
    body = "Line one\nLine <two> & \"three\"\r\nend"
    job = _email_job(body=body)
    assert job.stage == "SUCCEEDED"
    text, body_html = _parts(_parse(smtp.handler.messages[0][2]))
    assert "Line one\nLine <two> & \"three\"\nend" in text
    assert "Line one<br>\nLine &lt;two&gt; &amp; &quot;three&quot;<br>\nend" in body_html
    assert "<two>" not in body_html


#: Subjects that would put a line break into the Subject header, as given or once decoded.
HOSTILE_SUBJECTS = [
    "Done\nBcc: eve@example.org", "Done\r", "\r\nDone", "a\rb",
    "=?utf-8?q?x=0D=0ABcc:_evil@example.org?=",  # RFC 2047: decodes to CR LF + a Bcc line
    "=?utf-8?q?x=0D=0A=0D=0AReplaced_body?=",  # two CRLFs: the rest would become the body
    "=?UTF-8?B?eA0KQmNjOiBldmlsQGV4YW1wbGUub3Jn?=",  # base64 of "x\r\nBcc: evil@example.org"
    "a\x0bBcc: x", "a\x0cb", "a\x1cb", "a\x1db", "a\x1eb", "a\x85Bcc: x", "a\u2028Bcc: x", "a\u2029b",
]


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS)
def test_header_injection_in_the_subject_is_refused_before_a_job_exists(backend, smtp, subject):
    with pytest.raises(ValidationError, match=r"destination\.subject must be a single line of plain text: .* contains "
                                              r"(a line break|an RFC 2047 encoded word).*Allowed: one line") as info:
        (wf.Int(1) + 1).compute(destination={"type": "email", "subject": subject})
    assert info.value.field == "destination.subject" and info.value.value == subject
    assert backend.jobs.list(limit=10) == []
    assert smtp.handler.messages == [] and smtp.handler.rcpt_calls == 0


@pytest.mark.parametrize("body", ["a\x00b", "bell\x07", "\ud800"])
def test_a_body_that_cannot_be_mailed_is_refused_before_a_job_exists(backend, smtp, body):
    with pytest.raises(ValidationError, match=r"destination\.body must be plain text: .* contains "
                                              r"(a control character|an unpaired surrogate)") as info:
        (wf.Int(1) + 1).compute(destination={"type": "email", "body": body})
    assert info.value.field == "destination.body"
    assert backend.jobs.list(limit=10) == []
    assert smtp.handler.rcpt_calls == 0


def test_line_breaks_in_the_body_stay_in_the_body(backend, smtp):
    body = "one\r\n\r\nBcc: eve@example.org\u2028two\x85three\x0bfour\rSubject: x"
    job = _email_job(body=body)
    assert job.stage == "SUCCEEDED", job._row["error_message"]
    msg = _parse(smtp.handler.messages[0][2])
    assert msg["Bcc"] is None and msg.get_all("Subject") == ["Workflows: " + SUBJECT]
    text, _ = _parts(msg)
    assert text.startswith("one\n\nBcc: eve@example.org\ntwo\nthree\nfour\nSubject: x\n")


def test_a_long_unicode_subject_arrives_intact(backend, smtp):
    subject = "Ergebnis für Zürich, 東京 und Ελλάδα: " + "sehr lang " * 12 + "= ? ?= =?"
    job = _email_job(subject=subject)
    assert job.stage == "SUCCEEDED", job._row["error_message"]
    assert _parse(smtp.handler.messages[0][2])["Subject"] == "Workflows: " + subject


def _hostile_row(subject):
    return {"id": "ab" * 24, "format": {"type": "json"}, "link_base": "http://127.0.0.1:1",
            "destination": {"type": "email", "subject": subject, "body": "The real body."}}


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS)
def test_the_mailer_never_sends_an_injected_header(backend, smtp, subject):
    """A job row that bypassed normalize: the mailer refuses it before sending (code DESTINATION)."""
    with pytest.raises(JobDestination, match=r"Refusing to send the email: its Subject header .* holds a line break|"
                                             r"Refusing to send the email: its Subject header .* was refused") as info:
        mailer.send_result_email(backend, _hostile_row(subject), backend.settings.time() + 60)
    assert info.value.code == "DESTINATION"
    for _, _, raw in smtp.handler.messages:  # nothing arrives; whatever would have, had no Bcc nor a new body
        msg = _parse(raw)
        assert msg["Bcc"] is None and "The real body." in _parts(msg)[0]
    assert smtp.handler.messages == [] and smtp.handler.rcpt_calls == 0


def test_an_injected_sender_is_refused_before_sending(make_backend, smtp):
    b = make_backend(email="alice@example.org",
                     smtp_url=f"smtp://127.0.0.1:{smtp.port}?from=me%40example.org%0D%0ABcc%3A%20eve%40example.org")
    with pytest.raises(JobDestination, match=r"its From header 'me@example.org\\r\\nBcc: eve@example.org' was refused"):
        mailer.send_result_email(b, _hostile_row(SUBJECT), b.settings.time() + 60)
    b2 = make_backend(email="alice@example.org", home=b.settings.home / "2",
                      smtp_url=f"smtp://127.0.0.1:{smtp.port}?from=%3D%3Futf-8%3Fq%3Fx%3D0D%3D0ABcc%3A_eve%3F%3D%20%3Cme%40x.org%3E")
    with pytest.raises(JobDestination, match=r"its From header .* (was refused|holds a line break)"):
        mailer.send_result_email(b2, _hostile_row(SUBJECT), b2.settings.time() + 60)
    assert smtp.handler.messages == [] and smtp.handler.rcpt_calls == 0


def test_a_generated_header_block_that_differs_from_the_one_set_is_refused():
    """The last check, for a Python whose email package would let a raw line break through."""
    msg = email.message.EmailMessage(policy=mailer.POLICY)
    msg.set_content("The real body.")
    msg._headers.insert(0, ("Subject", "x\r\nBcc: eve@example.org"))  # as if the policy had not refused it
    with pytest.raises(JobDestination, match=r"the generated message has the headers \['subject', 'bcc', "):
        mailer.check_generated(msg)


def test_a_recipient_with_a_line_break_is_refused_before_a_job_exists(make_backend, smtp):
    b = make_backend(email="alice@example.org\nBcc: eve@example.org", smtp_url=f"smtp://127.0.0.1:{smtp.port}")
    with pytest.raises(ValidationError, match=r"WF_WIDGETS_EMAIL must be one address on one line: .* contains a "
                                              r"line break \(U\+000A LF\)"):
        (wf.Int(1) + 1).compute(destination="email")
    assert b.jobs.list(limit=10) == [] and smtp.handler.rcpt_calls == 0


def test_email_not_configured_is_refused_before_a_job_exists(make_backend):
    b = make_backend()
    with pytest.raises(ValidationError, match="WF_WIDGETS_EMAIL and WF_WIDGETS_SMTP_URL"):
        (wf.Int(1) + 1).compute(destination="email")
    assert b.jobs.list(limit=10) == []


def test_result_of_an_email_job_points_to_the_link(backend, smtp):
    job = _email_job()
    with pytest.raises(EmailResultNotLoaded, match=r"job\.url.*result_to_file"):
        job.result()


def test_compute_with_email_waits_and_returns_none(backend, smtp):
    out = (wf.Int(1) + 1).compute(destination={"type": "email", "subject": SUBJECT}, format="json")
    assert out is None
    assert len(smtp.handler.messages) == 1
    assert _parse(smtp.handler.messages[0][2])["Subject"] == "Workflows: " + SUBJECT


def _assert_failed_but_downloadable(job, where, reason):
    assert job.stage == "FAILED"
    assert job._row["error_code"] == "DESTINATION"
    message = job._row["error_message"]
    assert where in message and "3 tries" in message and reason in message and "job.url" in message
    with pytest.raises(JobDestination, match=re.escape(where)):
        job.result()
    url = job.url
    assert url is not None
    r = fetch(url)
    assert r.status == 200 and r.body == b"2"


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_refusing_server_fails_the_job_and_keeps_the_result(backend, smtp, stage):
    setattr(smtp.handler, f"refuse_{stage}", ALWAYS)
    job = _email_job()
    _assert_failed_but_downloadable(job, f"127.0.0.1:{smtp.port}", "550")
    assert getattr(smtp.handler, f"{stage}_calls") == 3  # retried: 3 tries in all
    assert smtp.handler.messages == []


def test_server_down_fails_the_job_and_keeps_the_result(make_backend):
    port = free_port()  # nothing listens there
    make_backend(email="alice@example.org", smtp_url=f"smtp://127.0.0.1:{port}")
    job = _email_job()
    _assert_failed_but_downloadable(job, f"127.0.0.1:{port}", "connection refused")


def test_a_passing_refusal_is_retried_then_sent(backend, smtp):
    smtp.handler.refuse_rcpt = 2
    job = _email_job()
    assert job.stage == "SUCCEEDED"
    assert smtp.handler.rcpt_calls == 3 and len(smtp.handler.messages) == 1


def test_backoff_doubles_and_is_injectable(backend, smtp):
    smtp.handler.refuse_rcpt = ALWAYS
    waits = []
    msg = mailer.build_message(backend, {"id": "ab" * 24, "format": {"type": "json"},
                                         "destination": {"type": "email", "subject": "s", "body": "b"}},
                               backend.settings.time() + 60, "http://127.0.0.1:1/results/x")
    with pytest.raises(JobDestination, match=r"127\.0\.0\.1:\d+ \(4 tries\): recipient refused \(550"):
        mailer.send(backend, msg, tries=4, backoff_s=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]


def _auth_smtp(smtp_factory):
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer@example.org" and auth_data.password == b"p@ss:word"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    return smtp_factory(authenticator=authenticator, auth_require_tls=False, auth_required=True)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_come_from_the_url(make_backend, smtp_factory):
    server = _auth_smtp(smtp_factory)
    make_backend(email="alice@example.org", smtp_url=f"smtp://mailer%40example.org:p%40ss%3Aword@127.0.0.1:{server.port}")
    job = _email_job()
    assert job.stage == "SUCCEEDED", job._row["error_message"]
    mail_from, _, raw = server.handler.messages[0]
    assert mail_from == "mailer@example.org" and _parse(raw)["From"] == "mailer@example.org"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_wrong_password_fails_naming_the_server(make_backend, smtp_factory):
    server = _auth_smtp(smtp_factory)
    make_backend(email="alice@example.org", smtp_url=f"smtp://mailer%40example.org:wrong@127.0.0.1:{server.port}")
    job = _email_job()
    _assert_failed_but_downloadable(job, f"127.0.0.1:{server.port}", "authentication failed")


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.org", ("mail.example.org", 25, False, None, None)),
    ("smtps://mail.example.org", ("mail.example.org", 465, True, None, None)),
    ("smtp://u:p@mail.example.org:587", ("mail.example.org", 587, False, "u", "p")),
    ("smtps://a%40b.org:x%2Fy@[::1]:2465", ("::1", 2465, True, "a@b.org", "x/y")),
])
def test_parse_smtp_url(url, expected):
    c = mailer.parse_smtp_url(url)
    assert (c.host, c.port, c.ssl, c.user, c.password) == expected


def test_sender_address():
    assert mailer.sender_address(mailer.parse_smtp_url("smtp://h?from=noreply%40x.org")) == "noreply@x.org"
    assert mailer.sender_address(mailer.parse_smtp_url("smtp://me%40x.org:pw@h")) == "me@x.org"
    assert mailer.sender_address(mailer.parse_smtp_url("smtp://me:pw@h")).startswith("wf_widgets@")
    with pytest.raises(ValidationError, match="smtp://user:password@host:port"):
        mailer.parse_smtp_url("http://h")


# -- TLS: a self-signed certificate for 127.0.0.1, trusted through SSL_CERT_FILE ------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


def _server_context(certificate):
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certificate)
    return ctx


def test_starttls_when_offered(make_backend, smtp_factory, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = smtp_factory(tls_context=_server_context(certificate), require_starttls=True)
    make_backend(email="alice@example.org", smtp_url=f"smtp://127.0.0.1:{server.port}")
    job = _email_job()
    assert job.stage == "SUCCEEDED", job._row["error_message"]
    assert len(server.handler.messages) == 1


def test_smtps(make_backend, smtp_factory, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = smtp_factory(ssl_context=_server_context(certificate))
    make_backend(email="alice@example.org", smtp_url=f"smtps://127.0.0.1:{server.port}")
    job = _email_job()
    assert job.stage == "SUCCEEDED", job._row["error_message"]
    assert len(server.handler.messages) == 1


def test_untrusted_certificate_is_a_destination_failure(make_backend, smtp_factory, certificate):
    server = smtp_factory(ssl_context=_server_context(certificate))  # SSL_CERT_FILE not set: not trusted
    make_backend(email="alice@example.org", smtp_url=f"smtps://127.0.0.1:{server.port}")
    job = _email_job()
    _assert_failed_but_downloadable(job, f"127.0.0.1:{server.port}", "CERTIFICATE_VERIFY_FAILED")


def test_revoking_an_emailed_link_stops_it(backend, smtp):
    job = _email_job()
    _, _, raw = smtp.handler.messages[0]
    (link,) = re.findall(r"https?://\S+", _parts(_parse(raw))[0])
    assert fetch(link).body == b"2"
    job.revoke_link()
    r = fetch(link)
    assert r.status == 410 and b"revoked by the owner" in r.body
