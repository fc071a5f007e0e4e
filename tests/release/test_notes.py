"""Release notes: release-drafter semantics, offline from git, and against a local GitHub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from steward.config.release import ReleaseNotesConfig, VersionConfig
from steward.domain.logins import Login
from steward.release.notes.draft import PullRequest, categorize, contributors, draft_notes
from tests.release.gitrepo import Repo, run
from tests.release.releases_server import ReleasesServer

CFG = ReleaseNotesConfig()


def pr(n: int, title: str, author: str, *labels: str) -> PullRequest:
    """A PR as GitHub's API gives it: its author is a login."""
    return PullRequest(n, title, Login(author), tuple(labels))


def test_first_matching_category_wins_and_excluded_left_out() -> None:
    pulls = [
        pr(1, "feat: a", "ana", "feature", "bug"),
        pr(2, "fix: b", "bo", "bug"),
        pr(3, "chore: c", "cy", "internal", "skip-changelog"),
        pr(4, "misc", "di"),
        pr(5, "feat!: e", "ana", "feature", "breaking-change"),
    ]
    cats = categorize(pulls, CFG)
    assert [(c.title, [p.number for p in c.pulls]) for c in cats] == [
        ("⚠️ Breaking Changes", [5]),
        ("🌟New features and non-breaking changes", [1]),
        ("🐛 Bug and hot fixes", [2]),
        ("Other changes", [4]),
    ]


def test_contributors_skip_bots_and_maintainers() -> None:
    cfg = ReleaseNotesConfig(maintainers=["Leandro"])
    pulls = [
        pr(1, "a", "ana"),
        pr(2, "b", "dependabot[bot]"),
        pr(3, "c", "leandro"),
        PullRequest(4, "d", Login("ana"), (), (Login("bo"),)),
    ]
    assert contributors(pulls, cfg) == ["ana", "bo"]


def test_body_layout_and_version_from_labels() -> None:
    notes = draft_notes(
        [pr(7, "feat(logger): add x", "ana", "feature"), pr(8, "fix: y $AUTHOR", "bo", "bug")],
        CFG,
        VersionConfig(),
        base=Version("2.3.1"),
        existing=[Version("2.3.1")],
    )
    assert notes.version == Version("2.4.0")
    assert notes.tag == "v2.4.0"
    assert notes.body == (
        "## Summary\n\n**[Human readable summary of changes]**\n\n## Changes\n\n"
        "## 🌟New features and non-breaking changes\n\n* feat(logger): add x (#7) by @ana\n\n"
        "## 🐛 Bug and hot fixes\n\n* fix: y $AUTHOR (#8) by @bo\n\n"
        "## This release was made possible by the following contributors:\n\n"
        "@ana and @bo\n"
    )
    breaking = draft_notes(
        [pr(1, "x", "a", "breaking-change")], CFG, VersionConfig(), base=Version("2.3.1")
    )
    assert breaking.version == Version("3.0.0")
    patch = draft_notes(
        [pr(1, "x", "a", "documentation")], CFG, VersionConfig(), base=Version("2.3.1")
    )
    assert patch.version == Version("2.3.2")


def history(path: Path) -> Repo:
    r = Repo(path)
    r.commit("feat: old")
    r.tag("v1.4.0")
    r.commit("feat(parser): parse things (#21)", email="1234+ana-dev@users.noreply.github.com")
    r.commit(
        "fix: a crash (#22)\n\nCo-authored-by: Bo <99+bo-gh@users.noreply.github.com>",
        author="Cy",
        email="cy@example.com",
    )
    r.commit(
        "chore(deps): bump x (#23)",
        author="dependabot[bot]",
        email="49699333+dependabot[bot]@users.noreply.github.com",
    )
    r.commit("not conventional at all")
    return r


def test_from_git_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    r = history(tmp_path / "r")
    code, out, err = run(["release", "notes", "--from-git", "--path", str(r.path)], capsys)
    assert code == 0
    assert out == (
        "## Summary\n\n**[Human readable summary of changes]**\n\n## Changes\n\n"
        "## 🌟New features and non-breaking changes\n\n"
        "* feat(parser): parse things (#21) by @ana-dev\n\n"
        "## 🐛 Bug and hot fixes\n\n* fix: a crash (#22) by Cy\n\n"  # a name, no noreply
        "## 🔧 Maintenance\n\n* chore(deps): bump x (#23) by @dependabot[bot]\n\n"
        "## Other changes\n\n* not conventional at all by Ana Lima\n\n"
        "## This release was made possible by the following contributors:\n\n"
        "@ana-dev, Cy, @bo-gh and Ana Lima\n"  # order of appearance in the notes
    )
    assert "next version 1.5.0 (v1.5.0)" in err
    code, out, _ = run(
        ["release", "notes", "--path", str(r.path), "--since", "v1.4.0", "--json"], capsys
    )
    data = json.loads(out)
    assert (data["version"], data["level"], data["source"]) == ("1.5.0", "minor", "git")


def test_a_mention_from_git_comes_from_a_noreply_address_never_from_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An author or co-author *named* like a login (`octocat`, `Cy`) is not that login: only
    GitHub's noreply addresses (`ID+login@...`, `login@...`) say who someone is on GitHub
    (#16). A name stays a plain name, so nobody unrelated is notified."""
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    r = Repo(tmp_path / "r")
    r.commit("fix: by name only (#1)", author="octocat", email="someone@example.com")
    r.commit("fix: by id noreply (#2)", author="Mona", email="583231+mona@users.noreply.github.com")
    r.commit("fix: by plain noreply (#3)", author="Hu Bot", email="hubot@users.noreply.github.com")
    r.commit(
        "fix: with co-authors (#4)\n\n"
        "Co-authored-by: torvalds <linus@example.org>\n"
        "Co-authored-by: defunkt\n"
        "Co-authored-by: Chris <2+defunkt-gh@users.noreply.github.com>",
        author="Ana Lima",
        email="ana@example.com",
    )
    code, out, _ = run(["release", "notes", "--from-git", "--path", str(r.path)], capsys)
    assert code == 0
    assert "* fix: by name only (#1) by octocat\n" in out
    assert "* fix: by id noreply (#2) by @mona\n" in out
    assert "* fix: by plain noreply (#3) by @hubot\n" in out
    assert "* fix: with co-authors (#4) by Ana Lima\n" in out
    contributors = out.rsplit("contributors:\n\n", 1)[1]
    assert contributors == "Ana Lima, torvalds, defunkt, @defunkt-gh, @hubot, @mona and octocat\n"
    for name in ("@octocat", "@torvalds", "@defunkt ", "@defunkt,", "@Ana"):
        assert name not in out


def test_no_tags_from_git(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    r = Repo(tmp_path / "r")
    r.commit("fix: first (#1)")
    code, out, err = run(["release", "notes", "--from-git", "--path", str(r.path)], capsys)
    assert code == 0
    assert "* fix: first (#1) by Ana Lima" in out
    assert "no release tags" in err
    assert "next version 0.1.0" in err


def test_publish_needs_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    code, _, err = run(["release", "notes", "--publish", "--path", str(tmp_path)], capsys)
    assert code == 2
    assert err == "error: --publish needs GITHUB_TOKEN (or run without --publish)\n"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReleasesServer]:
    with ReleasesServer("octo/app") as server:
        monkeypatch.setenv("GITHUB_TOKEN", "test-token")
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
        yield server
        assert server.violations == []


def test_github_reads_one_search_per_hundred_and_publishes_once(
    github: ReleasesServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.add_release("v2.0.0", published_at="2024-03-01T10:00:00Z")
    github.add_pull(1, "feat: before the release", "old", ["feature"], "2024-02-01T00:00:00Z")
    for n in range(2, 152):  # 150 PRs merged after it
        labels = ["bug"] if n % 2 else ["documentation"]
        github.add_pull(n, f"fix: change {n}", f"user{n % 3}", labels, "2024-03-02T00:00:00Z")
    github.add_pull(200, "feat: big one", "renovate[bot]", ["feature"], "2024-03-03T00:00:00Z")
    github.add_pull(
        201, "chore: hidden", "ana", ["internal", "skip-changelog"], "2024-03-03T00:00:00Z"
    )
    argv = ["release", "notes", "--repo", "octo/app", "--path", str(tmp_path), "--json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    data = json.loads(out)
    assert (data["version"], data["source"], data["draft"]) == ("2.1.0", "github", None)
    titles = [c["title"] for c in data["categories"]]
    assert titles == [
        "🌟New features and non-breaking changes",
        "📜 Documentation updates",
        "🐛 Bug and hot fixes",
    ]
    assert sum(len(c["changes"]) for c in data["categories"]) == 151
    # first seen in the docs category (PRs 2, 4, 6: user2, user1, user0); the bot left out
    assert data["contributors"] == ["user2", "user1", "user0"]
    searches = [c for c in github.calls if c[1] == "/search/issues"]
    assert len(searches) == 2  # 152 hits, 100 per call
    assert github.calls[0] == ("GET", "/repos/octo/app/releases")

    github.calls.clear()
    code, _, err = run([*argv[:-1], "--publish"], capsys)
    assert code == 0
    assert "draft release v2.1.0: created" in err
    assert ("POST", "/repos/octo/app/releases") in github.calls
    drafts = [r for r in github.releases if r["draft"]]
    assert len(drafts) == 1
    assert drafts[0]["tag_name"] == "v2.1.0"
    assert drafts[0]["body"].startswith("## Summary\n\n**[Human readable summary of changes]**")

    github.calls.clear()
    code, _, err = run([*argv[:-1], "--publish"], capsys)
    assert "draft release v2.1.0: unchanged" in err
    assert [c for c in github.calls if c[0] != "GET"] == []  # second run writes nothing

    github.add_pull(300, "fix: late", "ana", ["bug"], "2024-03-04T00:00:00Z")
    github.calls.clear()
    code, _, err = run([*argv[:-1], "--publish"], capsys)
    assert "draft release v2.1.0: updated" in err
    assert [c[0] for c in github.calls if c[0] != "GET"] == ["PATCH"]
    assert len([r for r in github.releases if r["draft"]]) == 1


def test_github_since_unknown_tag(
    github: ReleasesServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["release", "notes", "--repo", "octo/app", "--path", str(tmp_path), "--since", "v9.9.9"],
        capsys,
    )
    assert code == 2
    assert "no release with that tag" in err
