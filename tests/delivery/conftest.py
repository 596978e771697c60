"""Fixtures of the delivery tests: a real SMTP server (aiosmtpd), an isolated Backend using it, and the spec's
composite with a small tile to compute it over."""

from __future__ import annotations

import pytest
from aiosmtpd import controller as aiosmtpd_controller

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.delivery import mailer
from wf_widgets.server import stop_thread_server
from wf_widgets.server.testing import free_port


class Recorder:
    """aiosmtpd handler keeping every accepted message; can refuse RCPT or DATA a number of times."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.rcpt_calls = 0
        self.data_calls = 0
        self.refuse_rcpt: float = 0
        self.refuse_data: float = 0
        self.refusal = "550 5.1.1 Mailbox unavailable"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_calls += 1
        if self.refuse_rcpt > 0:
            self.refuse_rcpt -= 1
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.refuse_data > 0:
            self.refuse_data -= 1
            return self.refusal
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


class Smtp:
    """A started aiosmtpd Controller on 127.0.0.1 and its Recorder."""

    def __init__(self, **smtp_kwargs):
        self.handler = Recorder()
        self.port = free_port()
        self.controller = aiosmtpd_controller.Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                                         **smtp_kwargs)
        self.controller.start()

    def stop(self):
        self.controller.stop()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """Retry backoff of milliseconds, so refusing servers fail jobs fast."""
    monkeypatch.setattr(mailer, "BACKOFF_S", 0.01)


@pytest.fixture
def smtp_factory():
    started = []

    def start(**smtp_kwargs) -> Smtp:
        s = Smtp(**smtp_kwargs)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def smtp(smtp_factory):
    """A plain SMTP server on 127.0.0.1 accepting everything."""
    return smtp_factory()


@pytest.fixture
def make_backend(tmp_path):
    """Factory of isolated Backends (no sweep at start), installed as the default; closed after."""
    made = []
    previous = wf.set_backend(None)

    def make(**settings) -> Backend:
        settings.setdefault("home", tmp_path / f"home{len(made)}")
        settings.setdefault("user", "user:alice")
        b = Backend(Settings(**settings), sweep=False)
        made.append(b)
        wf.set_backend(b)
        return b

    yield make
    wf.set_backend(previous)
    for b in made:
        stop_thread_server(b)
        b.close()


@pytest.fixture
def backend(make_backend, smtp):
    """A Backend emailing alice@example.org through ``smtp``."""
    return make_backend(email="alice@example.org", smtp_url=f"smtp://127.0.0.1:{smtp.port}")


# -- the catalog destination ----------------------------------------------------------------------
def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link the (never modified) demo rasters, copy everything else (the databases)."""
    import os
    import shutil

    if src.endswith(".tif"):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)


@pytest.fixture
def make_demo_catalog(demo_home, make_backend, tmp_path):
    """Factory of Backends (``user:alice``, installed as the default) on a private copy of the demo catalog."""
    import shutil

    made = []

    def make(**settings) -> Backend:
        home = tmp_path / f"demo-home{len(made)}"
        shutil.copytree(demo_home / "catalog", home / "catalog", copy_function=_link_or_copy)
        made.append(home)
        return make_backend(home=home, **settings)

    return make


@pytest.fixture
def demo_catalog(make_demo_catalog):
    """``user:alice`` on a private copy of the demo home, installed as the default backend."""
    return make_demo_catalog()


@pytest.fixture
def make_product(demo_catalog):
    """Factory of saved target products of alice: ``make_product("org:my_product_id", data_type="UInt16")``.

    Bands ``vv`` and ``vh`` (MicrowaveBand unless ``band_class`` says otherwise), each with
    ``nodata`` (None: no nodata), ``data_range`` and ``physical_range`` when given; with
    ``alpha=True`` a last band ``alpha``, a MaskBand with ``is_alpha=True`` of the same data type.
    """

    def make(product_id="org:my_product_id", names=("vv", "vh"), data_type="UInt16", nodata=0, alpha=False,
             band_class=None, **band_fields):
        band_class = band_class or wf.catalog.MicrowaveBand
        product = wf.catalog.Product(id=product_id, name=product_id.rsplit(":", 1)[-1]).save()
        for i, name in enumerate(names):
            band_class(name=name, product_id=product_id, data_type=data_type, nodata=nodata, band_index=i,
                       **band_fields).save()
        if alpha:
            wf.catalog.MaskBand(name="alpha", product_id=product_id, data_type=data_type, is_alpha=True,
                                band_index=len(names)).save()
        return product

    return make


# -- the storage destination's az:// ------------------------------------------------------------------
@pytest.fixture(scope="session")
def azurite():
    """Azurite (Azure Blob Storage's emulator, from npm) on 127.0.0.1, in memory, for the session.

    ``os.environ`` holds the ``AZURE_*`` variables pointing obstore at it while it runs.
    """
    from tests._azurite import start_azurite, stop_azurite

    server, saved = start_azurite()
    yield server
    stop_azurite(server, saved)


@pytest.fixture
def composite():
    """The spec's composite of the demo product."""
    return wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01").mean(axis="images")


@pytest.fixture
def small_tile():
    """A 64-pixel DLTile over Santa Fe, inside the demo product's scenes."""
    return wf.DLTile.from_latlon(35.6870, -105.9378, 60, 64, 0)
