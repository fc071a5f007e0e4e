"""Shared test setup: where GitHub's published material lives (installed by `make setup`)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OCTOKIT = ROOT / "node_modules" / "@octokit"


@pytest.fixture(scope="session")
def octokit_dir() -> Path:
    if not OCTOKIT.is_dir():
        pytest.fail("node_modules/@octokit is missing: run `make setup` (npm ci) first")
    return OCTOKIT
