"""A real Azure Blob Storage emulator for the tests: Azurite (npm) on 127.0.0.1, in memory.

``scripts/test`` installs it under ``.cache/azurite`` (``npm install --prefix .cache/azurite azurite``).
The account is Azurite's well-known development account; containers are made with one
SharedKey-signed request (Azurite, like Azure, makes no container on upload).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import http.client
import shutil
import socket
import subprocess
import time
from pathlib import Path

from wf_widgets.server.testing import free_port

from ._environ import point_environ, restore_environ

#: Azurite's development account and its well-known key (public, documented by Microsoft).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-08-06"
#: Where ``scripts/test`` installs Azurite.
LOCAL_BIN = Path(__file__).resolve().parent.parent / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob"


def azurite_path() -> str | None:
    """The ``azurite-blob`` command: the one ``scripts/test`` installs, else one on the PATH, else None."""
    if LOCAL_BIN.exists():
        return str(LOCAL_BIN)
    return shutil.which("azurite-blob")


class Azurite:
    """``azurite-blob`` on 127.0.0.1 at a free port, in memory; stopped by :meth:`stop`."""

    def __init__(self) -> None:
        command = azurite_path()
        if command is None:
            raise RuntimeError("Azurite is not installed: run scripts/test (it runs `npm install --prefix "
                               ".cache/azurite azurite`), or put azurite-blob on the PATH")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([command, "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                                      "--inMemoryPersistence", "--silent", "--skipApiVersionCheck"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"azurite-blob exited: {self.proc.stderr.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("azurite-blob did not listen within 60 s") from None
                time.sleep(0.05)

    def environ(self) -> dict[str, str]:
        """The variables that point obstore's AzureStore at this emulator."""
        return {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": self.endpoint,
                "AZURE_STORAGE_ACCOUNT_NAME": ACCOUNT, "AZURE_STORAGE_ACCOUNT_KEY": KEY}

    def make_container(self, name: str) -> None:
        """Create the container ``name`` (one SharedKey-signed PUT)."""
        date = _dt.datetime.now(_dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
        resource = f"/{ACCOUNT}/{ACCOUNT}/{name}\nrestype:container"
        to_sign = "PUT\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:{VERSION}\n{resource}"
        signature = base64.b64encode(hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("PUT", f"/{ACCOUNT}/{name}?restype=container", body=b"",
                         headers={"x-ms-date": date, "x-ms-version": VERSION,
                                  "Authorization": f"SharedKey {ACCOUNT}:{signature.decode()}"})
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 201:
            raise RuntimeError(f"Azurite refused to make container {name!r}: {response.status} {body[:300]!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def start_azurite() -> tuple[Azurite, dict[str, str | None]]:
    """Start Azurite and point ``os.environ`` at it; returns it and the variables replaced."""
    server = Azurite()
    return server, point_environ(server.environ())


def stop_azurite(server: Azurite, saved: dict[str, str | None]) -> None:
    restore_environ(saved)
    server.stop()
