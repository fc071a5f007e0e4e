"""The streaming history reader on real repositories."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.conventional import clean_match, header_of_match, parse_header, parse_header_full
from steward.errors import GitError
from steward.history.git import ensure_repo, head_sha, iter_commits, read_tags, remote_url
from steward.history.progress import Progress
from steward.history.releases import UNRELEASED, assign_releases
from tests.release.gitrepo import Repo


def test_commit_fields_and_trailers(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    first = r.commit("feat: ünïcode subject")
    second = r.commit(
        "fix(a,b): x (#12)\n\nBody line.\n\nBREAKING CHANGE: gone\n"
        "Co-authored-by: Bo <bo@example.com>",
        author="Cy",
        email="cy@example.com",
    )
    commits = list(iter_commits(r.path, ["HEAD"]))
    assert [c.sha for c in commits] == [second, first]
    c = commits[0]
    assert (c.author_name, c.author_email, c.subject) == (
        "Cy",
        "cy@example.com",
        "fix(a,b): x (#12)",
    )
    assert c.date == "2023-11-16T22:13:20+00:00"
    assert c.parents == (first,)
    assert ("Co-authored-by", "Bo <bo@example.com>") in c.trailers
    msg = c.message
    assert msg.header is not None
    assert (msg.header.scopes, msg.pr, msg.breaking, msg.co_authors) == (
        ("a", "b"),
        12,
        True,
        ("Bo <bo@example.com>",),
    )
    assert commits[1].subject == "feat: ünïcode subject"


def test_tags_annotated_and_lightweight(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    sha = r.commit("feat: a")  # 2023-11-15T22:13:20Z
    r.tag("light")
    r.clock += 3600
    r.tag("annotated", annotated=True)  # tagger date one hour later
    tags = {t.name: t for t in read_tags(r.path)}
    assert tags["light"].sha == tags["annotated"].sha == sha
    assert tags["light"].date == "2023-11-15T22:13:20+00:00"
    assert tags["annotated"].date == "2023-11-15T23:13:20+00:00"


def test_assign_ranks_with_a_tag_off_trunk(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    a = r.commit("feat: a")
    r.git("checkout", "-q", "-b", "rel")
    bump = r.commit("chore: bump")
    r.git("checkout", "-q", "main")
    b = r.commit("fix: b")
    c = r.commit("docs: c")
    ranks = {bump: 0, b: 1}
    got = {
        commit.sha: rank
        for rank, commit in assign_releases(iter_commits(r.path, [bump, b, c], topo=True), ranks)
    }
    assert got == {bump: 0, a: 0, b: 1, c: UNRELEASED}


def test_empty_repository_and_not_a_repository(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    assert head_sha(r.path) is None
    assert read_tags(r.path) == []
    with pytest.raises(GitError, match="no such directory"):
        ensure_repo(tmp_path / "missing")
    with pytest.raises(GitError, match="git log"):
        list(iter_commits(tmp_path, ["HEAD"]))


def test_remote_url_forms(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    assert remote_url(r.path) is None
    r.git("remote", "add", "origin", "git@github.com:octo/app.git")
    assert remote_url(r.path) == "https://github.com/octo/app"
    r.git("remote", "set-url", "origin", "https://github.com/octo/app.git")
    assert remote_url(r.path) == "https://github.com/octo/app"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: a")
    plain = io.StringIO()
    list(iter_commits(r.path, ["HEAD"], progress=Progress("x", plain)))
    assert plain.getvalue() == ""
    tty = Tty()
    list(iter_commits(r.path, ["HEAD"], progress=Progress("reading", tty)))
    assert tty.getvalue().startswith("\rreading: 1 commits")
    assert tty.getvalue().endswith("\r\x1b[K")  # cleared when done


_subjects = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda t, sc, bang, sep, subj, pr: f"{t}{sc}{bang}{sep}{subj}{pr}",
        st.sampled_from(["feat", "Fix", "docs", "x-y", "1bad", ""]),
        st.sampled_from(["", "(api)", "(a,b)", "( )", "()", "(a b)", "(x.y/z)"]),
        st.sampled_from(["", "!"]),
        st.sampled_from([": ", ":", ":  ", " : "]),
        st.text(alphabet="ab ()#1\t\u00a0", max_size=12),
        st.sampled_from(["", " (#12)", "(#3)", " (#12) ", " (#x)"]),
    ),
)


@settings(max_examples=600, deadline=None)
@given(subject=_subjects)
def test_fast_header_agrees_with_the_parser(subject: str) -> None:
    m = clean_match(subject)
    full = parse_header_full(subject)
    if m is not None:
        assert header_of_match(m) == full
        assert full is not None
        assert header_of_match(m).text == full.text
    assert parse_header(subject) == full
