"""Worker processes build their Backend from their own environment: helpers giving it to them.

A task sent to a process pool or a Dask worker carries a job's id alone (jobs/runner.py:
``run_job``); the worker reads ``WF_WIDGETS_HOME``, ``WF_WIDGETS_DATABASE_URL`` and
``WF_WIDGETS_STORAGE_URL`` from its own environment.
"""

from __future__ import annotations

import os

from wf_widgets.backend import Backend


def worker_environ(backend: Backend, home: object = None) -> dict[str, str]:
    """The ``WF_WIDGETS_`` variables of a worker running ``backend``'s jobs (its home: ``home``, else ``backend``'s)."""
    settings = backend.settings
    env = {"WF_WIDGETS_HOME": str(home if home is not None else settings.home), "WF_WIDGETS_USER": "user:worker"}
    if settings.database_url:
        env["WF_WIDGETS_DATABASE_URL"] = settings.database_url
    if settings.storage_url:
        env["WF_WIDGETS_STORAGE_URL"] = settings.storage_url
    return env


def set_environ(env: dict[str, str]) -> None:
    """Replace this process's ``WF_WIDGETS_`` variables by ``env`` (run in Dask workers with ``client.run``)."""
    for key in [k for k in os.environ if k.startswith("WF_WIDGETS_")]:
        del os.environ[key]
    os.environ.update(env)
