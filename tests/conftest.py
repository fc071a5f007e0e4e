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


# The longest test (minutes, where the next takes about one) runs first: under
# `-n 2 --dist worksteal` it starts at once on one worker while the other takes the rest and
# steals from its queue, so it never starts late and runs on alone at the end.
LONGEST_FIRST = ("tests/server/test_chaos.py::",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))  # stable
