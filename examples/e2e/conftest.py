"""Run against a local AWS emulator unless E2E_REAL_AWS=1 (or AWS_ENDPOINT_URL is set).

The emulator is started here, in the pytest controller, before pytest-xdist spawns its
workers: they inherit AWS_ENDPOINT_URL and share the one server.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

EMULATOR = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    is_worker = hasattr(config, "workerinput")
    if is_worker or os.environ.get("E2E_REAL_AWS") or os.environ.get("AWS_ENDPOINT_URL"):
        return
    from steward.e2e.emulator import start_moto

    emulator = start_moto()
    os.environ.update(emulator.env)
    config.stash[EMULATOR] = emulator


def pytest_unconfigure(config: pytest.Config) -> None:
    emulator = config.stash.get(EMULATOR, None)
    if emulator is not None:
        emulator.stop()
