import os
import stat
from pathlib import Path

import pytest

import wf_widgets as wf
from wf_widgets.config import Settings


def test_settings_from_environment(tmp_path):
    env = {"WF_WIDGETS_HOME": str(tmp_path / "h"), "WF_WIDGETS_USER": "user:bob", "WF_WIDGETS_EMAIL": "bob@example.org",
           "WF_WIDGETS_SMTP_URL": "smtps://u:p@127.0.0.1:465", "WF_WIDGETS_PUBLIC_URL": "https://x.example.org/wf/",
           "WF_WIDGETS_RETENTION_DAYS": "2.5", "WF_WIDGETS_WORKERS": "3", "WF_WIDGETS_NOW_OFFSET_S": "60"}
    s = Settings.from_env(env)
    assert s.home == (tmp_path / "h").resolve()
    assert (s.user, s.email, s.smtp_url) == ("user:bob", "bob@example.org", "smtps://u:p@127.0.0.1:465")
    assert s.public_url == "https://x.example.org/wf"
    assert (s.retention_days, s.workers, s.now_offset_s) == (2.5, 3, 60.0)


def test_toml_file_and_environment_precedence(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text('email = "toml@example.org"\nretention_days = 4\nuser = "user:toml"\n')
    s = Settings.from_env({"WF_WIDGETS_HOME": str(home), "WF_WIDGETS_USER": "user:env"})
    assert (s.email, s.retention_days, s.user) == ("toml@example.org", 4.0, "user:env")
    (home / "config.toml").write_text('colour = "blue"\n')
    with pytest.raises(ValueError, match="Unknown setting 'colour'"):
        Settings.from_env({"WF_WIDGETS_HOME": str(home)})


@pytest.mark.parametrize("env, match", [
    ({"WF_WIDGETS_RETENTION_DAYS": "ten"}, "WF_WIDGETS_RETENTION_DAYS must be a number, got 'ten'"),
    ({"WF_WIDGETS_RETENTION_DAYS": "0"}, "retention_days must be a positive number, got 0.0"),
    ({"WF_WIDGETS_WORKERS": "0"}, "workers must be >= 1, got 0"),
])
def test_bad_settings_name_the_variable(tmp_path, env, match):
    with pytest.raises(ValueError, match=match):
        Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), **env})


def test_clock_moves_with_the_offset(tmp_path):
    s = Settings(home=tmp_path, now_offset_s=86400)
    assert 86399 < s.time() - Settings(home=tmp_path).time() < 86401
    assert s.now().tzinfo is not None


def test_backend_writes_only_inside_its_home(tmp_path):
    home = tmp_path / "home"
    b = wf.Backend(Settings(home=home))
    wf.set_backend(b)
    try:
        (wf.Int(1) + 1).compute(format="json", block=False).wait()
        b.signer.key  # noqa: B018 - creates the key
    finally:
        wf.set_backend(None)
        b.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
    key = home / "signing.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_max_memory_and_max_tiles_settings(tmp_path):
    from wf_widgets.config import FALLBACK_MAX_MEMORY, default_max_memory

    env = {"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_MAX_MEMORY": "8GiB", "WF_WIDGETS_MAX_TILES": "2000"}
    s = Settings.from_env(env)
    assert (s.max_memory, s.max_tiles) == (8 << 30, 2000)
    assert Settings.from_dict(s.to_dict()).max_memory == 8 << 30
    for raw, expected in (("500MB", 500 * 10**6), ("1.5 GiB", 3 << 29), ("123", 123), ("2kib", 2048), (4096, 4096),
                          ("1e9", 10**9), ("2T", 2 * 10**12)):
        assert Settings(home=tmp_path, max_memory=raw).max_memory == expected
    assert default_max_memory(24 * 10**9) == 18 * 10**9
    assert default_max_memory(0) == FALLBACK_MAX_MEMORY
    assert 0 < Settings(home=tmp_path).max_memory == default_max_memory()
    (tmp_path / "config.toml").write_text('max_memory = "2GB"\nmax_tiles = 10\n')
    s = Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path)})
    assert (s.max_memory, s.max_tiles) == (2 * 10**9, 10)


@pytest.mark.parametrize("env, match", [
    ({"WF_WIDGETS_MAX_MEMORY": "lots"}, r"WF_WIDGETS_MAX_MEMORY must be a number of bytes >= 1, optionally with a "
                                        r"unit \(like '8GiB' or '500MB'\), got 'lots'"),
    ({"WF_WIDGETS_MAX_MEMORY": "8 parsecs"}, r"WF_WIDGETS_MAX_MEMORY must be a number of bytes"),
    ({"WF_WIDGETS_MAX_MEMORY": "-1GB"}, r"WF_WIDGETS_MAX_MEMORY must be a number of bytes >= 1"),
    ({"WF_WIDGETS_MAX_TILES": "many"}, r"WF_WIDGETS_MAX_TILES must be a number, got 'many'"),
    ({"WF_WIDGETS_MAX_TILES": "0"}, r"max_tiles must be >= 1, got 0"),
])
def test_bad_limits_name_the_variable(tmp_path, env, match):
    with pytest.raises(ValueError, match=match):
        Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), **env})


def test_database_url_and_signing_key_settings(tmp_path):
    key = "A" * 43 + "="  # base64 of 32 bytes
    s = Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path / "h"), "WF_WIDGETS_DATABASE_URL": "postgresql://u:p@db:5432/wf",
                           "WF_WIDGETS_SIGNING_KEY": key})
    assert (s.database_url, s.signing_key) == ("postgresql://u:p@db:5432/wf", key)
    assert key not in repr(s) and Settings.from_dict(s.to_dict()) == s  # workers get both; repr shows no key
    assert Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path / "h"), "WF_WIDGETS_DATABASE_URL": ""}).database_url is None
    assert Settings(home=tmp_path, database_url="sqlite:////tmp/x.sqlite").database_url == "sqlite:////tmp/x.sqlite"


@pytest.mark.parametrize("field, value, match", [
    ("database_url", "mysql://db/wf", r"WF_WIDGETS_DATABASE_URL must start with one of sqlite:///, postgresql://, "
                                      r"postgres:// \(or be unset: SQLite files in the home folder\), got 'mysql://db/wf'"),
    ("database_url", "sqlite://relative.db", r"must start with one of sqlite:///"),
    ("signing_key", "not base64!", r"WF_WIDGETS_SIGNING_KEY must be base64"),
    ("signing_key", "c2hvcnQ=", r"WF_WIDGETS_SIGNING_KEY must hold at least 32 bytes, it holds 5"),
])
def test_bad_database_settings_name_the_variable(tmp_path, field, value, match):
    with pytest.raises(wf.errors.ValidationError, match=match) as err:
        Settings(home=tmp_path, **{field: value})
    assert err.value.field == field
    if field == "signing_key":  # a key, even a bad one, is never shown
        assert value not in str(err.value) and err.value.value == "<hidden>"


def test_storage_roots_and_max_link_days_settings(tmp_path):
    s = Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path)})
    assert s.storage_roots is None and s.storage_root_paths == () and s.max_link_days == 30.0
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    s = Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_STORAGE_ROOTS": f"{tmp_path}/link:/data/x/",
                           "WF_WIDGETS_MAX_LINK_DAYS": "90"})
    assert s.storage_root_paths == ((tmp_path / "real").resolve(), Path("/data/x").resolve())
    assert s.max_link_days == 90.0
    assert Settings.from_dict(s.to_dict()) == s  # handed to workers as a dict


@pytest.mark.parametrize("env, match", [
    ({"WF_WIDGETS_STORAGE_ROOTS": "relative/x"}, r"STORAGE_ROOTS must list absolute folders separated by ':', got "
                                                 r"'relative/x' \(the entry 'relative/x' is relative\)"),
    ({"WF_WIDGETS_STORAGE_ROOTS": "/a::/b"}, r"\(the entry '' is empty\)"),
    ({"WF_WIDGETS_MAX_LINK_DAYS": "soon"}, r"WF_WIDGETS_MAX_LINK_DAYS must be a number, got 'soon'"),
    ({"WF_WIDGETS_MAX_LINK_DAYS": "0"}, r"max_link_days must be a positive number of days, got 0.0"),
    ({"WF_WIDGETS_MAX_LINK_DAYS": "inf"}, r"max_link_days must be a positive number of days"),
])
def test_bad_storage_roots_and_max_link_days_name_the_variable(tmp_path, env, match):
    with pytest.raises(wf.errors.ValidationError, match=match):
        Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), **env})
