"""GET/HEAD /results/<id> on a real server (the kernel-thread mount) with a real HTTP client."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

import wf_widgets as wf
from wf_widgets.delivery.links import result_url
from wf_widgets.server.app import CHUNK_SIZE
from wf_widgets.server.testing import fetch, wait_for

from .conftest import every_store

DAY = 86400.0


def _json_job():
    job = (wf.Int(1) + 1).compute(format="json", block=False)
    job.wait(30)
    assert job.stage == "SUCCEEDED"
    return job


def _with(url: str, **replace) -> str:
    """``url`` with some query arguments replaced."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(replace)
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


@every_store
def test_full_download_of_a_computed_result(served):
    job = _json_job()
    assert job.url.startswith(served + "/results/" + job.id + "?expires=")
    r = fetch(job.url)
    assert r.status == 200 and r.body == b"2"
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Content-Length"] == "1"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{job.id}.json"'
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["ETag"].startswith('"')
    assert r.body == job._backend.storage.get(f"results/{job.id}.json")


def test_pyarrow_result_has_its_mimetype_and_extension(served):
    job = (wf.Int(1) + 1).compute(block=False).wait(30)
    r = fetch(job.url)
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/vnd.apache.arrow.stream"
    assert r.headers["Content-Disposition"].endswith(f'{job.id}.arrow"')
    with job._backend.results.open(job._row["result_path"]) as f:
        assert r.body == f.read()


@every_store
def test_large_result_streams_in_chunks_and_arrives_whole(served, store_result):
    data = os.urandom(3 * CHUNK_SIZE + 12345)
    job = store_result(data, "bin", "application/octet-stream")
    r = fetch(job.url)
    assert r.status == 200 and r.body == data
    assert r.headers["Content-Length"] == str(len(data))


@every_store
def test_head_gives_the_headers_without_the_body(served, store_result):
    job = store_result(b"x" * 1000)
    r = fetch(job.url, method="HEAD")
    assert r.status == 200 and r.body == b""
    assert r.headers["Content-Length"] == "1000"
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["ETag"] == fetch(job.url).headers["ETag"]


@every_store
@pytest.mark.parametrize("header, status, span", [
    ("bytes=2-5", 206, (2, 6)),
    ("bytes=5-", 206, (5, 10)),
    ("bytes=-3", 206, (7, 10)),
    ("bytes=8-100", 206, (8, 10)),
    ("bytes=0-0", 206, (0, 1)),
    ("bytes=0-1,4-5", 200, (0, 10)),  # several ranges: the whole resource
    ("items=0-1", 200, (0, 10)),      # another unit: ignored
])
def test_ranges(served, store_result, header, status, span):
    data = b"0123456789"
    job = store_result(data)
    r = fetch(job.url, headers={"Range": header})
    assert r.status == status
    assert r.body == data[span[0]:span[1]]
    assert r.headers["Content-Length"] == str(span[1] - span[0])
    if status == 206:
        assert r.headers["Content-Range"] == f"bytes {span[0]}-{span[1] - 1}/10"


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=100-200", "bytes=-0"])
@every_store
def test_unsatisfiable_range_is_416(served, store_result, header):
    job = store_result(b"0123456789")
    r = fetch(job.url, headers={"Range": header})
    assert r.status == 416
    assert r.headers["Content-Range"] == "bytes */10"
    assert b"0123456789" not in r.body


@every_store
def test_range_on_a_large_file(served, store_result, store_kind, request):
    data = os.urandom(2 * CHUNK_SIZE + 7)
    job = store_result(data, "bin", "application/octet-stream")
    start = CHUNK_SIZE - 3
    r = fetch(job.url, headers={"Range": f"bytes={start}-"})
    assert r.status == 206 and r.body == data[start:]
    r = fetch(job.url, headers={"Range": "bytes=10-19"})
    assert r.status == 206 and r.body == data[10:20]
    if store_kind == "s3":  # each answer came from one ranged GET of the object, never the whole of it
        s3 = request.getfixturevalue("s3_server")
        gets = wait_for(lambda: (lambda g: g if len(g) >= 2 else None)(
            [g for g in s3.requests_for(f"/{job.id}.bin") if g.method == "GET"]), what="the S3 server's records")
        assert [(g.range, g.sent) for g in gets] == [(f"bytes={start}-{len(data) - 1}", len(data) - start),
                                                     ("bytes=10-19", 10)]


@every_store
def test_etag_conditionals(served, store_result):
    job = store_result(b"0123456789")
    etag = fetch(job.url, method="HEAD").headers["ETag"]
    assert fetch(job.url, headers={"If-None-Match": etag}).status == 304
    assert fetch(job.url, headers={"If-None-Match": '"other"'}).status == 200
    # If-Range: a matching tag honours the range, a stale one gets everything.
    assert fetch(job.url, headers={"Range": "bytes=0-1", "If-Range": etag}).body == b"01"
    stale = fetch(job.url, headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert stale.status == 200 and stale.body == b"0123456789"


def test_no_login_needed_and_no_cookies(served):
    job = _json_job()
    r = fetch(job.url)
    assert r.status == 200
    assert "Set-Cookie" not in r.headers


# -- refusals -------------------------------------------------------------------------------

def test_tampered_signature_is_403(served):
    job = _json_job()
    sig = parse_qs(urlsplit(job.url).query)["signature"][0]
    tampered = ("0" if sig[0] != "0" else "1") + sig[1:]
    for url in (_with(job.url, signature=tampered), _with(job.url, signature=""), job.url.split("?")[0]):
        r = fetch(url)
        assert r.status == 403
        assert r.headers["Content-Type"].startswith("text/plain")
        assert "signature" in r.text and b"2" != r.body


def test_changed_expiry_is_403(served):
    job = _json_job()
    expires = int(parse_qs(urlsplit(job.url).query)["expires"][0])
    assert fetch(_with(job.url, expires=expires + 3600)).status == 403
    assert fetch(_with(job.url, expires="soon")).status == 403


def test_link_moved_to_another_job_is_403(served):
    a, b = _json_job(), _json_job()
    moved = a.url.replace(a.id, b.id)
    assert fetch(moved).status == 403
    assert fetch(b.url).status == 200


@every_store
def test_expired_link_is_410_even_while_the_file_exists(served, backend):
    job = _json_job()
    url = job.url
    backend.settings.now_offset_s = backend.settings.retention_days * DAY + 1
    r = fetch(url)
    assert r.status == 410
    assert "expired" in r.text and "10 days" in r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert backend.storage.exists(backend.results.key(job._row["result_path"]))  # not swept yet: refused anyway


def test_link_expiry_alone_is_enforced(served, backend):
    """A link signed with an earlier expiry than the row's is refused once that passes."""
    job = _json_job()
    short = result_url(backend.signer, backend.link_base(), job.id, backend.settings.time() + 60)
    assert fetch(short).status == 200
    backend.settings.now_offset_s = 61
    assert fetch(short).status == 410
    assert fetch(job.url).status == 200  # the row's own link still runs


def test_row_expiry_alone_is_enforced(served, backend):
    """A link signed for longer than the row keeps the data is refused once the row expires."""
    job = _json_job()
    long = result_url(backend.signer, backend.link_base(), job.id, backend.settings.time() + 100 * DAY)
    assert fetch(long).status == 200
    backend.settings.now_offset_s = 11 * DAY
    assert fetch(long).status == 410


@every_store
def test_deleted_result_is_410(served, backend):
    job = _json_job()
    url = job.url
    backend.results.delete(job._row["result_path"])
    assert fetch(url).status == 410
    backend.jobs.mark_deleted(job.id)
    assert fetch(url).status == 410


@pytest.mark.parametrize("path", [
    "..%2F..%2Fetc%2Fpasswd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2Fetc%2Fpasswd",
    "signing.key",
    "..%2Fsigning.key",
    "..%2Fjobs.sqlite",
    "%2e%2e%2fsigning.key",
    "0" * 47,
    "A" * 48,
    "g" * 48,
    "",
])
def test_malformed_ids_are_404(served, backend, path):
    key = backend.signer.key  # exists, in the home folder above results/
    r = fetch(f"{served}/results/{path}?expires=9999999999&signature=00")
    assert r.status == 404
    assert key not in r.body and b"CREATE TABLE" not in r.body


def test_raw_dot_dot_segments_are_404(served):
    # Sent as-is on a raw socket: no client-side normalisation of "..".
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /results/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404") and b"root:" not in reply


def test_unknown_id_unsigned_is_403_signed_is_404(served, backend):
    unknown = "ab" * 24
    assert fetch(f"{served}/results/{unknown}?expires=9999999999&signature=" + "0" * 64).status == 403
    r = fetch(result_url(backend.signer, backend.link_base(), unknown, backend.settings.time() + 60))
    assert r.status == 404


def test_a_row_pointing_outside_the_store_is_never_served(served, backend):
    job = _json_job()
    url = job.url
    backend.jobs._conn().execute("UPDATE jobs SET result_path = ? WHERE id = ?", ("../signing.key", job.id))
    r = fetch(url)
    assert r.status == 410 and backend.signer.key not in r.body


def test_running_job_has_no_result_yet(served, backend):
    from wf_widgets.jobs.plan import new_job_id

    job_id = new_job_id()
    backend.jobs.create(job_id, kind="Int", graph={}, geoctx=None, format={"type": "json"},
                        destination={"type": "download"})
    r = fetch(result_url(backend.signer, backend.link_base(), job_id, backend.settings.time() + 60))
    assert r.status == 404 and "no stored result" in r.text


def test_results_are_never_listed(served):
    _json_job()
    for path in ("/results/", "/results", "/", "/results/?expires=1&signature=x"):
        r = fetch(served + path)
        assert r.status == 404, path


def test_only_get_and_head(served):
    job = _json_job()
    assert fetch(job.url, method="DELETE").status == 405
    assert fetch(job.url, method="GET").status == 200


def test_health(served):
    r = fetch(served + "/health")
    assert r.status == 200
    assert json.loads(r.body) == {"ok": True, "kind": "thread", "pid": os.getpid()}
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_signatures_never_reach_the_access_log(served, caplog):
    job = _json_job()
    with caplog.at_level(logging.INFO, logger="wf_widgets.server"):
        assert fetch(job.url).status == 200
        assert fetch(_with(job.url, signature="00")).status == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "wf_widgets.server"]
    assert any(job.id in line for line in lines)
    assert not any("signature" in line or "expires" in line for line in lines)


@every_store
def test_many_concurrent_downloads(served, store_result):
    jobs = [store_result(f"{i}".encode() * 100) for i in range(40)]
    results: dict[int, bytes] = {}

    def get(i):
        results[i] = fetch(jobs[i].url).body

    threads = [threading.Thread(target=get, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {i: f"{i}".encode() * 100 for i in range(len(jobs))}


def test_client_going_away_mid_download_leaves_the_server_serving(served, store_result):
    job = store_result(os.urandom(8 * CHUNK_SIZE), "bin", "application/octet-stream")
    path = job.url.removeprefix(served)
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
    assert fetch(served + "/health").status == 200
    assert len(fetch(job.url).body) == 8 * CHUNK_SIZE


def test_same_handlers_under_a_base_path(app_server, backend):
    url = app_server("/hub/user/alice/wf-widgets/")
    backend.settings.public_url = url + "/hub/user/alice/wf-widgets"
    job = _json_job()
    assert fetch(job.url).body == b"2"
    assert fetch(url + "/results/" + job.url.split("/results/")[1]).status == 404
    assert json.loads(fetch(url + "/hub/user/alice/wf-widgets/health").body)["kind"] == "standalone"


# -- hardening: huge ranges, logs without links, missing and damaged results ----------------------
def _all_log_text(caplog) -> str:
    return "\n".join(r.getMessage() + "\n" + (caplog.handler.formatter or logging.Formatter()).format(r)
                     for r in caplog.records)


def test_a_huge_range_is_416_and_no_log_holds_the_link(served, store_result, caplog):
    job = store_result(b"0123456789")
    huge = "9" * 4301  # Python's int() refuses more than 4,300 digits
    with caplog.at_level(logging.DEBUG):
        r = fetch(job.url, headers={"Range": f"bytes={huge}-"})
        assert r.status == 416 and r.headers["Content-Range"] == "bytes */10"
        assert huge not in r.text and len(r.body) < 200
        r = fetch(job.url, headers={"Range": f"bytes=3-{huge}"})
        assert r.status == 206 and r.body == b"3456789"
    text = _all_log_text(caplog)
    assert job.id in text
    assert "signature=" not in text and "expires=" not in text


def test_an_unexpected_error_answers_500_without_its_text_and_logs_no_link(served, backend, monkeypatch, caplog):
    job = _json_job()
    url = job.url

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail /srv/secret 1234")

    monkeypatch.setattr(backend.jobs, "get", broken)
    with caplog.at_level(logging.DEBUG):
        r = fetch(url)
    assert r.status == 500 and r.text == "500 Internal Server Error\n"
    text = _all_log_text(caplog)
    assert "internal detail /srv/secret 1234" in text  # the server's log has the error...
    assert f"/results/{job.id}" in text
    assert "signature=" not in text and "expires=" not in text  # ...but not the link


@every_store
def test_a_deleted_result_says_missing_not_expired(served, backend):
    job = _json_job()
    url = job.url
    backend.results.delete(job._row["result_path"])
    r = fetch(url)
    assert r.status == 410
    assert "missing" in r.text and "expired on" not in r.text and "Compute the result again" in r.text
    row = backend.jobs.get(job.id)
    assert row["result_deleted"] == 1 and "missing" in row["result_problem"]
    assert fetch(url).text == r.text  # the row now says so, without looking at the disk


@every_store
def test_a_truncated_result_is_410_damaged_and_the_job_marked(served, backend, store_result):
    data = os.urandom(3 * CHUNK_SIZE)
    job = store_result(data, "bin", "application/octet-stream")
    key = backend.results.key(job._row["result_path"])
    backend.storage.put(key, data[:1000])  # a disk filled up, a copy cut short
    r = fetch(job.url)
    assert r.status == 410
    assert r.text.startswith(f"The stored result of job {job.id} is damaged: its file holds 1000 bytes, "
                             f"but {len(data)} were written")
    row = backend.jobs.get(job.id)
    assert row["result_deleted"] == 1 and row["result_problem"] == r.text.strip()
    assert not backend.storage.exists(key)  # a damaged result is deleted with its mark
    assert fetch(job.url, method="HEAD").status == 410
