"""The real Powertools history (3,868 commits, 146 tags) against the CHANGELOG.md that
git-chglog made from it: steward's defaults must put >= 99 % of its entries in the right
release, and find the current version the project's release workflow left behind.

The fixtures are public material copied from `shared/fixtures/` (see their README).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.release.gitrepo import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "powertools"
ORIGIN = "https://github.com/aws-powertools/powertools-lambda-python.git"
_ANCHOR = re.compile(r'<a name="([^"]+)"></a>')


@pytest.fixture(scope="module")
def powertools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("powertools") / "h"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    stream = gzip.decompress((FIXTURES / "powertools-history.fi.gz").read_bytes())
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=stream, check=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "develop"], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", ORIGIN], check=True)
    return repo


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
