"""The real Powertools history (3,868 commits, 146 tags) against the CHANGELOG.md that
git-chglog made from it: steward's defaults must put >= 99 % of its entries in the right
release, and find the current version the project's release workflow left behind.

The fixtures are public material copied from `shared/fixtures/` (see their README).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.release.gitrepo import run
from tests.release.powertools import FIXTURES, load_powertools

_ANCHOR = re.compile(r'<a name="([^"]+)"></a>')


@pytest.fixture(scope="module")
def powertools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_powertools(tmp_path_factory.mktemp("powertools"))


def bullets(text: str) -> dict[str, Counter[str]]:
    """release anchor -> its `* ...` lines, counted."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    release = None
    for line in text.splitlines():
        m = _ANCHOR.match(line)
        if m:
            release = m.group(1)
        elif line.startswith("* ") and release is not None:
            out[release][line] += 1
    return out


def test_changelog_reproduces_git_chglog(
    powertools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["changelog", "--path", str(powertools)], capsys)
    assert code == 0, err
    theirs = bullets((FIXTURES / "powertools-CHANGELOG.md").read_text(encoding="utf-8"))
    ours = bullets(out)
    total = sum(sum(c.values()) for c in theirs.values())
    hit = sum(
        min(n, ours.get(release, Counter())[line])
        for release, lines in theirs.items()
        for line, n in lines.items()
    )
    assert total == 3544
    assert hit / total >= 0.99, f"{hit}/{total} entries in the right release"
    # every release git-chglog listed is there, in the same order
    assert _ANCHOR.findall(out) == _ANCHOR.findall(
        (FIXTURES / "powertools-CHANGELOG.md").read_text(encoding="utf-8")
    )


def test_current_version_at_develop_is_the_last_bump_release(
    powertools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # v3.2.0 is tagged on a version-bump commit that is not an ancestor of develop
    tagged = subprocess.run(
        ["git", "-C", str(powertools), "merge-base", "--is-ancestor", "v3.2.0", "develop"],
        check=False,
    )
    assert tagged.returncode == 1
    code, out, err = run(["version", "current", "--path", str(powertools), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["version"] == "3.2.0"
    code, out, err = run(["version", "next", "--path", str(powertools)], capsys)
    assert (code, out) == (0, "3.2.1\n")  # fixes since 3.2.0, no feature


def _is_ancestor(repo: Path, commit: str, of: str) -> bool:
    args = ["git", "-C", str(repo), "merge-base", "--is-ancestor", commit, of]
    return subprocess.run(args, check=False).returncode == 0


def test_every_release_tag_left_off_develop_is_named_with_its_reason(
    powertools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The expected set comes from git alone: a tag is off develop's line when neither its
    commit nor (for a bump commit) its parent is an ancestor of develop."""
    names = subprocess.run(
        ["git", "-C", str(powertools), "tag", "--list", "v*"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    expected = set()
    for name in names:
        if re.fullmatch(r"v\d+\.\d+\.\d+", name) is None:
            continue
        if _is_ancestor(powertools, name, "develop"):
            continue
        if not _is_ancestor(powertools, f"{name}^{{commit}}^", "develop"):
            expected.add(name)
    assert expected, "the fixture has maintenance releases off develop"
    code, out, err = run(["version", "current", "--path", str(powertools), "--json"], capsys)
    assert code == 0, err
    off = json.loads(out)["off_line_tags"]
    assert {t["tag"] for t in off} == expected
    assert all("parent is not on this branch's history" in t["reason"] for t in off)
    # and one stderr line says so, with the count and the first three
    notes = [line for line in err.splitlines() if "not on this branch's history" in line]
    assert len(notes) == 1
    assert notes[0].startswith(f"note: {len(expected)} release tags are not on this branch's")
    assert notes[0].count("(tagged commit ") == 3


def test_a_maintenance_checkout_names_the_trunk_releases_it_leaves_out(
    powertools: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """From v2.0.0's commit, every later release is off the line; none is silent."""
    work = tmp_path / "w"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(powertools), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", "-b", "v2", "v2.0.0"], check=True)
    code, out, err = run(["version", "current", "--path", str(work), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["version"] == "2.0.0"
    later = [t["tag"] for t in data["off_line_tags"]]
    assert "v3.2.0" in later
    assert "v2.0.0" not in later
