"""The release state file holds the release's inputs: it is created private (0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.pipeline import state as st


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o000)  # the most permissive umask: the mode must not depend on it
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_is_written_0600_whatever_the_umask(tmp_path: Path, open_umask: None):
    path = st.release_dir(tmp_path, ".steward", "1.0.0") / "state.json"
    rec = st.ReleaseState("1.0.0", {"commit": "abc", "epoch": 1})
    rec.stage("seal").status = "completed"
    st.save(rec, path)
    assert _mode(path) == 0o600
    loaded = st.load(path)
    assert loaded is not None
    assert loaded.stages["seal"].status == "completed"


def test_an_older_world_readable_state_becomes_private(tmp_path: Path, open_umask: None):
    path = tmp_path / "state.json"
    path.write_text("{}")
    path.chmod(0o644)
    leftover = tmp_path / "state.json.tmp"
    leftover.write_text("partial")
    leftover.chmod(0o666)
    st.save(st.ReleaseState("1.0.0"), path)
    assert _mode(path) == 0o600
    assert not leftover.exists()
