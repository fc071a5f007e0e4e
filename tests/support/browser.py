"""A real headless Chromium for the maintainers' page: Debian's package (`make chromium`),
driven by Playwright's Python client, never a browser Playwright downloads.

Screenshots are test artefacts: they are written to ``build/test-artifacts/page`` (or
``$STEWARD_TEST_ARTIFACTS/page``), kept after the run for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The flags the machine's notes give: this machine's closed network refuses Chromium's own
# background connections, and a root user needs --no-sandbox.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed: `make chromium` installs Debian's package")
    return found


def artifacts() -> Path:
    base = Path(os.environ.get("STEWARD_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
    out = base / "page"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
