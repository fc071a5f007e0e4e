"""`steward changelog` on real repositories built here, checked against hand-written text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.release.changelog.build import linker
from tests.release.gitrepo import Repo, run

URL = "https://github.com/octo/app"


def powertools_like(path: Path) -> Repo:
    """A small conventional history in the Powertools style (dates: 2023-11-15 onwards)."""
    r = Repo(path)
    (r.path / ".github").mkdir()
    (r.path / ".github" / "steward.yml").write_text(f"changelog:\n  repository_url: {URL}\n")
    r.commit("feat(logger): add correlation id (#101)")
    r.commit("fix: typo in docs string (#102)", author="Bo Chen", email="bo@example.com")
    r.commit(
        "chore(deps): bump boto3 from 1.26 to 1.28 (#103)",
        author="dependabot[bot]",
        email="49699333+dependabot[bot]@users.noreply.github.com",
    )
    r.tag("v1.0.0")
    r.commit("fix(tracer): do not crash on None (#104)")
    r.commit("docs(logger): explain sampling (#105)")
    r.commit("random wip commit")
    r.commit(
        "feat(parser,validation)!: drop pydantic v1 (#106)\n\n"
        "BREAKING CHANGE: pydantic v1 models are no longer accepted"
    )
    r.commit("chore(release): v1.1.0")
    r.commit("ci: tweak workflow")
    r.tag("v1.1.0", annotated=True)
    r.commit(
        "fix(event_handler): handle empty body (#107)\n\nCo-authored-by: Cy Dee <cy@example.com>"
    )
    r.commit(
        'Revert "docs(logger): explain sampling (#105)"\n\n'
        "This reverts commit 0123456789abcdef0123456789abcdef01234567."
    )
    return r


# Written by hand from the history above, following git-chglog's "github" layout as the
# Powertools CHANGELOG.md used it.
EXPECTED_GITHUB = """\
<!-- changelog is partially generated, so it doesn't follow headings and required \
structure, so we disable it. -->
<!-- markdownlint-disable -->

<a name="unreleased"></a>
# Unreleased

## Bug Fixes

* **event_handler:** handle empty body ([#107](https://github.com/octo/app/issues/107))

## Reverts
* docs(logger): explain sampling ([#105](https://github.com/octo/app/issues/105))


<a name="v1.1.0"></a>
## [v1.1.0] - 2023-11-23
## Bug Fixes

* **tracer:** do not crash on None ([#104](https://github.com/octo/app/issues/104))

## Documentation

* **logger:** explain sampling ([#105](https://github.com/octo/app/issues/105))

## Features

* **parser,validation:** drop pydantic v1 ([#106](https://github.com/octo/app/issues/106))

## BREAKING CHANGE

pydantic v1 models are no longer accepted


<a name="v1.0.0"></a>
## v1.0.0 - 2023-11-17
## Bug Fixes

* typo in docs string ([#102](https://github.com/octo/app/issues/102))

## Features

* **logger:** add correlation id ([#101](https://github.com/octo/app/issues/101))

## Maintenance

* **deps:** bump boto3 from 1.26 to 1.28 ([#103](https://github.com/octo/app/issues/103))

[Unreleased]: https://github.com/octo/app/compare/v1.1.0...HEAD
[v1.1.0]: https://github.com/octo/app/compare/v1.0.0...v1.1.0
"""


def test_github_layout_byte_for_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = powertools_like(tmp_path / "r")
    code, out, err = run(["changelog", "--path", str(r.path)], capsys)
    assert code == 0
    assert out == EXPECTED_GITHUB
    assert "1 non-conventional commit(s) left out" in err
    assert "random wip commit" in err


def test_keepachangelog_unreleased(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = powertools_like(tmp_path / "r")
    code, out, _ = run(
        ["changelog", "--path", str(r.path), "--unreleased", "--template", "keepachangelog"], capsys
    )
    assert code == 0
    assert out.endswith(
        "## [Unreleased]\n\n### Bug Fixes\n\n"
        f"- **event_handler:** handle empty body ([#107]({URL}/issues/107))\n\n"
        "### Reverted\n\n- docs(logger): explain sampling (#105)\n"
    )
    assert "## [1.1.0]" not in out


def test_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = powertools_like(tmp_path / "r")
    code, out, _ = run(["changelog", "--path", str(r.path), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["versions"]
    assert [(v["version"], v["date"]) for v in data["versions"]] == [
        (None, None),
        ("1.1.0", "2023-11-23"),
        ("1.0.0", "2023-11-17"),
    ]
    unreleased = data["versions"][0]["sections"][0]
    assert unreleased["title"] == "Bug Fixes"
    (entry,) = unreleased["entries"]
    assert set(entry) == {
        "kind",
        "type",
        "scope",
        "subject",
        "pr",
        "sha",
        "breaking",
        "notes",
        "authors",
    }
    assert entry["authors"] == ["Ana Lima", "Cy Dee"]
    assert (entry["type"], entry["scope"], entry["pr"], entry["breaking"]) == (
        "fix",
        "event_handler",
        107,
        False,
    )
    assert r.git("rev-parse", "HEAD~1") == entry["sha"]
    feats = data["versions"][1]["sections"][2]
    assert feats["title"] == "Features"
    assert feats["entries"][0]["breaking"] is True
    assert feats["entries"][0]["scope"] == "parser,validation"


def test_release_tag_off_trunk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: in the first release")
    r.git("checkout", "-q", "-b", "release-run")
    r.commit("chore: pin the build tool")
    r.tag("v1.0.0")
    r.git("checkout", "-q", "main")
    r.commit("fix: only in the second release")
    r.tag("v1.1.0")
    r.commit("docs: unreleased")
    code, out, _ = run(["changelog", "--path", str(r.path), "--json"], capsys)
    assert code == 0
    got = {
        v["version"]: [e["subject"] for s in v["sections"] for e in s["entries"]]
        for v in json.loads(out)["versions"]
    }
    assert got == {
        None: ["unreleased"],
        "1.1.0": ["only in the second release"],
        "1.0.0": ["in the first release", "pin the build tool"],  # Features, Maintenance,
    }


def test_merges_and_prereleases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: one")
    r.tag("v1.0.0")
    r.git("checkout", "-q", "-b", "topic")
    r.commit("fix(api): on a branch", file="other.txt")
    r.git("checkout", "-q", "main")
    r.commit("docs: on main")
    r.git("merge", "-q", "--no-ff", "topic", "-m", "Merge pull request #9 from me/topic")
    r.tag("v1.0.1a0")
    r.commit("perf: faster")
    r.tag("v1.0.1")
    code, out, err = run(["changelog", "--path", str(r.path), "--json"], capsys)
    assert code == 0
    versions = json.loads(out)["versions"]
    assert [v["version"] for v in versions] == [None, "1.0.1", "1.0.0"]
    subjects = sorted(e["subject"] for s in versions[1]["sections"] for e in s["entries"])
    assert subjects == ["faster", "on a branch", "on main"]
    assert "non-conventional" not in err  # the merge commit is not counted as one


def test_no_tags_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: hello")
    code, out, err = run(["changelog", "--path", str(r.path), "--unreleased"], capsys)
    assert code == 0
    assert "# Unreleased\n\n## Features\n\n* hello\n" in out
    assert "no release tags yet" in err


def test_output_keeps_released_sections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = powertools_like(tmp_path / "r")
    code, _, err = run(["changelog", "--path", str(r.path), "--output", "CHANGELOG.md"], capsys)
    assert code == 0
    assert "created" in err
    path = r.path / "CHANGELOG.md"
    assert path.read_text() == EXPECTED_GITHUB
    edited = EXPECTED_GITHUB.replace(
        "* typo in docs string", "* typo in docs string (thanks to our first contributor!)"
    )
    path.write_text(edited)
    r.tag("v1.2.0")
    code, _, err = run(["changelog", "--path", str(r.path), "--output", "CHANGELOG.md"], capsys)
    assert "updated" in err
    text = path.read_text()
    assert "(thanks to our first contributor!)" in text
    head, _, rest = text.partition('<a name="v1.2.0"></a>\n## [v1.2.0] - 2023-11-25\n')
    assert head.endswith("# Unreleased\n\n\n")  # nothing unreleased any more
    assert "**event_handler:** handle empty body" in rest.split('<a name="v1.1.0">')[0]
    assert rest.endswith(
        f"[Unreleased]: {URL}/compare/v1.2.0...HEAD\n"
        f"[v1.2.0]: {URL}/compare/v1.1.0...v1.2.0\n"
        f"[v1.1.0]: {URL}/compare/v1.0.0...v1.1.0\n"
    )
    # the released blocks are the hand-edited file's, byte for byte
    old_released = edited[edited.index('<a name="v1.1.0">') : edited.index("[Unreleased]:")]
    assert old_released in text
    code, _, err = run(["changelog", "--path", str(r.path), "--output", "CHANGELOG.md"], capsys)
    assert "up to date" in err
    assert path.read_text() == text


def test_custom_template_and_bad_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = powertools_like(tmp_path / "r")
    (r.path / "cl.j2").write_text(
        "{% for v in releases %}{{ v.tag }}:{% for s in v.sections %} {{ s.title }}"
        "{% endfor %}\n\n{% endfor %}"  # trim_blocks eats the first newline
    )
    code, out, _ = run(["changelog", "--path", str(r.path), "--template", "cl.j2"], capsys)
    assert (code, out) == (
        0,
        "v1.1.0: Bug Fixes Documentation Features\nv1.0.0: Bug Fixes Features Maintenance\n",
    )
    (r.path / "bad.j2").write_text("{% for %}")
    code, _, err = run(["changelog", "--path", str(r.path), "--template", "bad.j2"], capsys)
    assert code == 2
    assert "template syntax" in err
    code, _, err = run(["changelog", "--path", str(r.path), "--template", "nope.j2"], capsys)
    assert code == 2
    assert "built-ins are github, keepachangelog" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see #12", f"see [#12]({URL}/issues/12)"),
        ("(#123456789).", f"([#123456789]({URL}/issues/123456789))."),
        ("see #1234567890", "see #1234567890"),  # not issue #123456789
        ("see #12345678901", "see #12345678901"),
        ("see #123abc", "see #123abc"),  # not issue #123
        ("see abc#12", "see abc#12"),
        ("see #\uff11\uff12", "see #\uff11\uff12"),  # fullwidth digits are no number
        ("thanks @octocat.", "thanks [@octocat](https://github.com/octocat)."),
        ("by @a-b-c", "by [@a-b-c](https://github.com/a-b-c)"),
        (f"by @{'a' * 39}", f"by [@{'a' * 39}](https://github.com/{'a' * 39})"),
        (f"by @{'a' * 40}", f"by @{'a' * 40}"),  # too long: not its first 39 characters
        ("by @foo_bar", "by @foo_bar"),  # not @foo
        ("by @foo-", "by @foo-"),
        ("by @-foo", "by @-foo"),
        ("by @foo--bar", "by @foo--bar"),
        ("mail user@example.com", "mail user@example.com"),
        ("mail <user@example.com>", "mail <user@example.com>"),
    ],
)
def test_linkify_links_whole_numbers_and_valid_logins_only(text: str, expected: str) -> None:
    """#16: `#N` and `@login` in changelog text are linked only when whole, never a prefix."""
    assert linker(URL)(text) == expected
