"""delivery/: one handler per destination of the rules table, each following the DestinationHandler protocol."""

from __future__ import annotations

import inspect

from wf_widgets.delivery import HANDLERS
from wf_widgets.delivery.handler import DestinationHandler
from wf_widgets.outputs import DESTINATIONS


def test_the_handlers_are_the_destinations_of_the_table():
    assert list(HANDLERS) == list(DESTINATIONS)


def test_every_handler_has_the_protocols_methods_with_its_signatures():
    wanted = {name: inspect.signature(getattr(DestinationHandler, name))
              for name in ("preflight", "recheck", "deliver", "result")}
    for name, handler in HANDLERS.items():
        assert isinstance(handler.link_in_worker, bool), name
        assert isinstance(handler.discardable, bool), name
        for method, signature in wanted.items():
            got = inspect.signature(getattr(type(handler), method))
            assert list(got.parameters) == list(signature.parameters), (name, method)


def test_only_the_email_needs_its_link_in_the_worker():
    assert {name for name, h in HANDLERS.items() if h.link_in_worker} == {"email"}


def test_only_a_download_can_be_discarded_after_delivery():
    # Nothing but the stored file: a job cancelled meanwhile deletes it. An email went out; an
    # image is in the catalog: those jobs are claimed before they deliver.
    assert {name for name, h in HANDLERS.items() if h.discardable} == {"download"}
