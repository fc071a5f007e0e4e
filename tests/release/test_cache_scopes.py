"""The cache of released sections is keyed by everything that decides a package's commits:
its scopes too (`packages[].scopes`), or editing them would leave the released sections
as they were rendered before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run


def _released_subjects(r: Repo, capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out, err = run(
        ["changelog", "--path", str(r.path), "--package", "core", "--json"], capsys
    )
    assert code == 0, err
    released = [v for v in json.loads(out)["versions"] if v["tag"] is not None]
    return [e["subject"] for v in released for s in v["sections"] for e in s["entries"]]


def test_editing_scopes_renders_the_released_sections_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    (r.path / "core").mkdir()
    r.commit("feat(core): in the package", file="core/a.py")
    r.commit("fix(core): a root file, scoped to the package", file="setup.cfg")
    r.tag("core-v1.0.0")
    r.commit("docs: unreleased", file="core/b.py")
    config = r.path / ".github" / "steward.yml"
    config.parent.mkdir()
    config.write_text("packages:\n  - name: core\n    paths: [core]\n")
    assert _released_subjects(r, capsys) == ["in the package"]  # fills the cache
    config.write_text("packages:\n  - name: core\n    paths: [core]\n    scopes: true\n")
    assert sorted(_released_subjects(r, capsys)) == [
        "a root file, scoped to the package",
        "in the package",
    ]
