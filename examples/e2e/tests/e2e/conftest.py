"""Top level: build the Lambda layer once for all workers (skipped when src/ is unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.e2e import build_layer, call_once

SOURCES = [Path(__file__).resolve().parents[2] / "src" / "greeting"]


@pytest.fixture(scope="session")
def e2e_layer_zip(e2e_shared_dir: Path, e2e_build_dir: Path) -> Path:
    def build() -> str:
        return str(build_layer(SOURCES, e2e_build_dir).zip_path)

    return Path(call_once("layer", build, root=e2e_shared_dir))
