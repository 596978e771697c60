"""The signing key behind download links: length, rotation while in use, private mode."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
import subprocess
import sys
import time
import warnings
from urllib.parse import parse_qs, urlsplit

import pytest

import wf_widgets as wf
from wf_widgets.delivery import links
from wf_widgets.delivery.links import result_url
from wf_widgets.errors import SigningKeyError, SigningKeyWarning
from wf_widgets.server import stop_thread_server
from wf_widgets.server.testing import fetch, wait_for

DAY = 86400.0


def _write_key(path, key: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.chmod(path, mode)


@pytest.mark.parametrize("key", [b"", b"x", b"k" * 31])
def test_a_short_key_is_refused(make_backend, key):
    backend = make_backend()
    path = backend.settings.home / "signing.key"
    _write_key(path, key)
    with pytest.raises(SigningKeyError, match=rf"signing key .*signing\.key is {len(key)} byte\(s\) long; at least 32 "
                                              r".*Delete the file: a new random key is made"):
        backend.signer.key
    with pytest.raises(SigningKeyError):
        backend.signer.verify("ab" * 24, 10**10, hmac.new(key, b"x", hashlib.sha256).hexdigest())
    assert path.read_bytes() == key  # refused, not replaced behind the user's back


def test_a_link_signed_with_an_empty_key_is_not_served(make_backend):
    backend = make_backend()
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    link = job.url
    assert fetch(link).status == 200
    _write_key(backend.settings.home / "signing.key", b"")
    expires = int(backend.settings.time() + DAY)
    forged = hmac.new(b"", f"{job.id}:{expires}".encode(), hashlib.sha256).hexdigest()
    url = link.split("?", 1)[0] + f"?expires={expires}&signature={forged}"
    # Within a second the server reads the new (empty) key, and refuses to use it.
    r = wait_for(lambda: (lambda r: r if r.status == 500 else None)(fetch(url)), timeout=10,
                 what="the server to refuse the empty key")
    assert r.text == "500 Internal Server Error\n"  # the reason goes to the server's log only
    assert fetch(link).status == 500
    with pytest.raises(SigningKeyError, match="Delete the file"):
        job.url  # no new links either


def test_a_deleted_key_is_replaced_and_old_links_stop_working(make_backend):
    backend = make_backend()
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    old = job.url
    old_key = backend.signer.key
    assert fetch(old).status == 200
    (backend.settings.home / "signing.key").unlink()

    def rotated():
        new = result_url(backend.signer, backend.link_base(), job.id, job._row["expires"])
        return new != old and fetch(old).status == 403 and fetch(new).status == 200

    wait_for(rotated, timeout=10, what="the rotated key")
    assert backend.signer.key != old_key and len(backend.signer.key) == 32
    assert (backend.settings.home / "signing.key").read_bytes() == backend.signer.key


def test_a_replaced_key_is_used_within_seconds(make_backend):
    backend = make_backend()
    signer = backend.signer
    first = signer.key
    path = backend.settings.home / "signing.key"
    tmp = path.with_name("new.key")
    _write_key(tmp, b"n" * 32)
    os.replace(tmp, path)
    wait_for(lambda: signer.key == b"n" * 32, timeout=10, what="the replaced key")
    assert first != b"n" * 32


def test_the_key_file_is_looked_at_no_more_than_once_a_second(make_backend, monkeypatch):
    backend = make_backend()
    signer = backend.signer
    signer.key
    looks = []
    real_stat = os.stat

    def counting_stat(path, *args, **kwargs):
        if str(path) == str(signer.key_path):
            looks.append(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(links.os, "stat", counting_stat)
    for _ in range(1000):
        signer.signature("ab" * 24, 100)
    assert len(looks) <= 1


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_others_can_read_warns_once_per_load(make_backend, mode):
    backend = make_backend()
    path = backend.settings.home / "signing.key"
    _write_key(path, b"k" * 32, mode)
    match = rf"signing\.key has mode 0{mode:o}: other users can read it .*chmod 600"
    with pytest.warns(SigningKeyWarning, match=match):
        assert backend.signer.key == b"k" * 32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.signer.key  # the same key file: no second warning
    _write_key(path, b"m" * 32, mode)  # rotated, still readable: loaded again, warned again
    with pytest.warns(SigningKeyWarning):
        wait_for(lambda: backend.signer.key == b"m" * 32, timeout=10, what="the rotated key")


def test_a_private_key_does_not_warn(make_backend):
    backend = make_backend()
    _write_key(backend.settings.home / "signing.key", b"k" * 32, 0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert backend.signer.key == b"k" * 32


def test_a_signature_with_non_ascii_characters_is_refused_not_an_error(make_backend):
    backend = make_backend()
    assert backend.signer.verify("ab" * 24, 100, "é" * 64) is False


# -- keys in the database (WF_WIDGETS_DATABASE_URL), and `wf-widgets keys rotate` ---------------------------------

def _kid(url: str) -> str | None:
    return (parse_qs(urlsplit(url).query).get("kid") or [None])[0]


def _keys(home, *args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    environ.update(WF_WIDGETS_HOME=str(home), **env)
    return subprocess.run([sys.executable, "-m", "wf_widgets.cli", "keys", *args], env=environ, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(params=["sqlite-url", "postgresql"])
def key_db(request, tmp_path):
    """A database URL: one SQLite file, or a schema of the session's PostgreSQL."""
    if request.param == "sqlite-url":
        return f"sqlite:///{tmp_path / 'db' / 'all.sqlite'}"
    return request.getfixturevalue("postgres").new_schema_url()


def test_with_a_database_links_carry_the_key_id_and_a_rotation_reaches_every_process(make_backend, key_db, tmp_path):
    backend = make_backend(database_url=key_db)
    other = wf.Backend(wf.Settings(home=tmp_path / "elsewhere", database_url=key_db), sweep=False)  # another host
    try:
        job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
        link = job.url
        query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        assert set(query) == {"expires", "kid", "signature"}
        assert fetch(link).status == 200
        assert other.signer.verify(job.id, query["expires"], query["signature"], query["kid"])
        assert not other.signer.verify(job.id, query["expires"], query["signature"])  # no kid: no seed key here
        assert not (backend.settings.home / "signing.key").exists()  # the home's key file is not used
        out = _keys(tmp_path / "third", "rotate", WF_WIDGETS_DATABASE_URL=key_db)
        assert out.returncode == 0 and "new signing key" in out.stdout and "every other key retired" in out.stdout
        new_kid = out.stdout.split()[3]

        def rotated():
            return fetch(link).status == 403 and not other.signer.verify(job.id, query["expires"], query["signature"],
                                                                           query["kid"])

        wait_for(rotated, timeout=15, what="the server and the other process to retire the old key")
        new = result_url(backend.signer, backend.link_base(), job.id, job._row["expires"])
        assert _kid(new) == new_kid and fetch(new).status == 200
    finally:
        stop_thread_server(backend)
        other.close()


def test_the_signing_key_setting_seeds_the_first_key_and_links_without_a_kid_verify_against_it(key_db, tmp_path):
    shared = secrets.token_bytes(32)
    first = links.Signer(wf.Settings(home=tmp_path / "a", database_url=key_db,
                                     signing_key=base64.b64encode(shared).decode()))
    late = links.Signer(wf.Settings(home=tmp_path / "b", database_url=key_db,
                                    signing_key=base64.urlsafe_b64encode(secrets.token_bytes(40)).decode()))
    try:
        assert first.key == shared and first.table.current()[0] == links.seed_key_id(shared)
        assert late.key == shared  # the table had a key: another process's setting seeds nothing
        expires = int(time.time() + DAY)
        by_hand = hmac.new(shared, f"{'ab' * 24}:{expires}".encode(), hashlib.sha256).hexdigest()
        assert first.verify("ab" * 24, expires, by_hand)  # a link made with the shared key before it was in the table
        assert not late.verify("ab" * 24, expires, by_hand)  # its own setting's key is not in the table
        late.rotate()
        assert late.key != shared
        wait_for(lambda: not first.verify("ab" * 24, expires, by_hand) and first.key == late.key, timeout=10,
                 what="the retired seed key to stop verifying")
    finally:
        first.close()
        late.close()


def test_keys_rotate_in_the_embedded_default_replaces_the_key_file(make_backend):
    backend = make_backend()
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    old = job.url
    assert fetch(old).status == 200 and _kid(old) is None
    before = (backend.settings.home / "signing.key").read_bytes()
    out = _keys(backend.settings.home, "rotate")
    assert out.returncode == 0 and "new signing key in" in out.stdout
    path = backend.settings.home / "signing.key"
    assert path.read_bytes() != before and len(path.read_bytes()) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600

    def rotated():
        new = result_url(backend.signer, backend.link_base(), job.id, job._row["expires"])
        return fetch(old).status == 403 and fetch(new).status == 200

    wait_for(rotated, timeout=10, what="the rotated key file")
    assert not backend.signer.verify(job.id, job._row["expires"], "0" * 64, kid="anything")  # embedded links carry none
