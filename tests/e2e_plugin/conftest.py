"""One moto server per test worker (started lazily), and an environment pointing boto3 at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from steward.e2e.emulator import Emulator, start_moto


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Emulator]:
    emulator = start_moto()
    yield emulator
    emulator.stop()


@pytest.fixture
def aws_env(moto_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """boto3 in this process talks to the moto server, with fake credentials."""
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in moto_server.env.items():
        monkeypatch.setenv(key, value)
    return moto_server


@pytest.fixture
def cfn(aws_env: Emulator) -> Any:
    from steward.e2e import aws

    return aws.client("cloudformation")
