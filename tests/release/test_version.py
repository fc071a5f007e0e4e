"""The version engine: PEP 440 parsing, bump rules, pre-release counting, the version file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from steward.config.release import ChangelogConfig, VersionConfig
from steward.errors import ConfigError, UsageError
from steward.history.records import Commit
from steward.release import repository
from steward.release.changes import Change, changes_of
from steward.release.repository import Scope
from steward.release.tags import TagScheme, normalize
from steward.release.version import NextVersion, Phase, bump_level, plan_next
from steward.release.version_file import read_version, write_version
from tests.release.gitrepo import Repo, run

CFG = VersionConfig()


def change(subject: str, body: str = "") -> list[Change]:
    """The changes of a commit with this message (no repository needed: the core is pure)."""
    return changes_of(Commit("0" * 40, (), "Ana", "ana@example.com", "", subject, body))


def current_version(path: Path, cfg: VersionConfig = CFG) -> Version | None:
    line = repository.read_line(path, Scope(cfg, ChangelogConfig()))
    return line.current.version if line.current else None


def next_version(
    path: Path, cfg: VersionConfig = CFG, *, prerelease: Phase | None = None
) -> NextVersion:
    return repository.next_version_of(path, Scope(cfg, ChangelogConfig()), prerelease=prerelease)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v3.2.1-alpha.1", "3.2.1a1"),
        ("3.2.1", "3.2.1"),
        ("1.0.0-rc.2", "1.0.0rc2"),
        ("2.0b3", "2.0b3"),
        ("V1.2", "1.2"),
    ],
)
def test_normalize_pep440(text: str, expected: str) -> None:
    assert str(normalize(text)) == expected


def test_normalize_rejects_garbage() -> None:
    with pytest.raises(UsageError, match="not a PEP 440 version"):
        normalize("latest")


def test_tag_scheme_pattern() -> None:
    scheme = TagScheme("release-{version}")
    assert scheme.parse("release-1.2.0") == Version("1.2.0")
    assert scheme.parse("v1.2.0") is None
    assert scheme.parse("release-banana") is None
    assert scheme.format(Version("1.3.0a1")) == "release-1.3.0a1"


def levels(*subjects: str, base: str = "1.2.3", cfg: VersionConfig = CFG) -> str | None:
    return bump_level([c for s in subjects for c in change(s)], cfg, Version(base))


def test_bump_levels() -> None:
    assert levels("fix: a") == "patch"
    assert levels("docs: a", "feat(x): b") == "minor"
    assert levels("fix!: a") == "major"
    assert bump_level(change("fix: a", "BREAKING-CHANGE: gone"), CFG, Version("1.0.0")) == "major"
    assert levels("ci: a", "test: b") is None
    assert levels("just words") is None  # non-conventional: releases nothing by default
    assert levels("just words", cfg=VersionConfig(nonconventional="patch")) == "patch"
    assert levels("feat!: x", base="0.4.0") == "minor"  # under 1.0
    major_cfg = VersionConfig(breaking_before_1="major")
    assert bump_level(change("feat!: x"), major_cfg, Version("0.4.0")) == "major"


def test_plan_next_cases() -> None:
    v = Version
    assert plan_next(v("3.2.0"), "patch", [v("3.2.0")]).version == v("3.2.1")
    assert plan_next(v("3.2.0"), "minor", [v("3.2.0")]).version == v("3.3.0")
    assert plan_next(v("3.2.0"), "major", [v("3.2.0")]).version == v("4.0.0")
    assert plan_next(v("3.2.0"), None, [v("3.2.0")]).version == v("3.2.0")
    # daily alphas count up
    assert plan_next(v("3.2.0"), "patch", [v("3.2.0")], prerelease="a").version == v("3.2.1a0")
    tagged = [v("3.2.0"), v("3.2.1a0"), v("3.2.1a1")]
    assert plan_next(v("3.2.0"), "patch", tagged, prerelease="a").version == v("3.2.1a2")
    assert plan_next(v("3.2.0"), "patch", tagged, prerelease="b").version == v("3.2.1b0")
    # the final release of those alphas
    assert plan_next(v("3.2.0"), "patch", tagged).version == v("3.2.1")
    # a feature after alphas of 3.3.0 keeps counting on 3.3.0, never goes below
    tagged = [v("3.2.0"), v("3.3.0a4")]
    assert plan_next(v("3.2.0"), "patch", tagged, prerelease="a").version == v("3.3.0a5")
    with pytest.raises(UsageError, match="cannot follow"):
        plan_next(v("3.2.0"), "patch", [v("3.2.1b0")], prerelease="a")
    assert plan_next(None, "minor", [], initial=v("0.1.0")).version == v("0.1.0")


versions = st.builds(
    lambda a, b, c, pre: Version(f"{a}.{b}.{c}{pre}"),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
    st.sampled_from(["", "", "a0", "a3", "b1", "rc0"]),
)


@settings(max_examples=150, deadline=None)
@given(
    tagged=st.lists(versions, min_size=1, max_size=6),
    level=st.sampled_from(["major", "minor", "patch"]),
    phase=st.sampled_from([None, "a", "b", "rc"]),
)
def test_next_is_above_every_tag(tagged: list[Version], level: str, phase: str | None) -> None:
    finals = [t for t in tagged if not t.is_prerelease]
    base = max(finals) if finals else None
    try:
        result = plan_next(
            base,
            level,
            tagged,
            prerelease=phase,  # type: ignore[arg-type]
            initial=Version("0.1.0"),
        ).version
    except UsageError:
        return  # asked for a phase below an existing one: refused, not reordered
    if base is not None:
        assert result > base
    newer_than_base = [t for t in tagged if base is None or t > base]
    if phase is not None and newer_than_base:
        assert result > max(newer_than_base) or base is None
    # idempotent: the same inputs give the same answer
    assert (
        plan_next(
            base,
            level,
            tagged,
            prerelease=phase,  # type: ignore[arg-type]
            initial=Version("0.1.0"),
        ).version
        == result
    )


@settings(max_examples=80, deadline=None)
@given(v=versions)
def test_normalize_round_trips_tag(v: Version) -> None:
    scheme = TagScheme("v{version}")
    assert scheme.parse(scheme.format(v)) == v
    assert normalize(str(v)) == v


PYPROJECT = """\
# top comment
[project]
name = "demo"   # the name
version = "1.2.3"  # bumped by steward
dependencies = [
    "click>=8",  # cli
]

[tool.x]
key = 'value'
"""


@settings(max_examples=40, deadline=None)
@given(v=versions)
def test_write_round_trip(tmp_path_factory: pytest.TempPathFactory, v: Version) -> None:
    root = tmp_path_factory.mktemp("w")
    (root / "pyproject.toml").write_text(PYPROJECT)
    path = write_version(root, str(v), CFG)
    assert read_version(root, CFG) == str(v)
    text = path.read_text()
    assert text == PYPROJECT.replace('"1.2.3"', f'"{v}"')
    before = path.stat().st_mtime_ns
    write_version(root, str(v), CFG)
    assert path.read_text() == text
    assert path.stat().st_mtime_ns == before  # idempotent: not even rewritten


def test_poetry_and_dunder_files(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\nversion = "0.3.0"\n')
    assert read_version(tmp_path, CFG) == "0.3.0"
    write_version(tmp_path, "0.4.0", CFG)
    assert (tmp_path / "pyproject.toml").read_text() == (
        '[tool.poetry]\nname = "x"\nversion = "0.4.0"\n'
    )
    pkg = tmp_path / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""Pkg."""\n\n__version__ = "2.0.0"  # keep\nx = 1\n')
    cfg = VersionConfig(version_file="src/pkg/__init__.py")
    assert read_version(tmp_path, cfg) == "2.0.0"
    write_version(tmp_path, "2.1.0a0", cfg)
    assert (pkg / "__init__.py").read_text() == (
        '"""Pkg."""\n\n__version__ = "2.1.0a0"  # keep\nx = 1\n'
    )


def test_dynamic_version_needs_a_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndynamic = ["version"]\n')
    with pytest.raises(ConfigError, match="dynamic"):
        read_version(tmp_path, CFG)


def test_next_version_on_a_real_repo(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    r.commit("feat: first")
    r.tag("v1.0.0")
    r.tag("nightly")  # not a version: ignored
    r.commit("fix(x): a (#2)")
    assert current_version(r.path, CFG) == Version("1.0.0")
    line = repository.read_line(r.path, Scope(CFG, ChangelogConfig()))
    assert line.tags.ignored == [("nightly", "does not match 'v{version}'")]
    assert next_version(r.path, CFG).version == Version("1.0.1")
    assert next_version(r.path, CFG, prerelease="a").version == Version("1.0.1a0")
    r.tag("v1.0.1a0")
    r.commit("feat(y): b")
    # the alpha is not a final release: the level counts everything since 1.0.0
    assert next_version(r.path, CFG, prerelease="a").version == Version("1.1.0a0")
    r.tag("v1.1.0a0")
    r.commit("fix: c")
    assert next_version(r.path, CFG, prerelease="a").version == Version("1.1.0a1")
    assert next_version(r.path, CFG).version == Version("1.1.0")
    assert current_version(r.path, CFG) == Version("1.1.0a0")


def test_release_tag_off_trunk_still_counts(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    r.set_version("0.1.0")
    r.commit("feat: base")
    r.git("checkout", "-q", "-b", "release")
    r.bump("1.0.0", "chore(release): bump to 1.0.0")  # only the version line changes
    r.tag("v1.0.0")
    r.git("checkout", "-q", "main")
    r.commit("fix: after the release")
    # `feat: base` is in v1.0.0 (reachable from the tag), so only the fix is pending
    assert next_version(r.path, CFG).version == Version("1.0.1")


def test_cli_version_next_write_and_no_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    (r.path / "pyproject.toml").write_text(PYPROJECT.replace("1.2.3", "0.1.0"))
    r.commit("feat: start")
    code, out, err = run(["version", "next", "--path", str(r.path)], capsys)
    assert (code, out) == (0, "0.1.0\n")
    assert "no release yet" in err
    code, out, err = run(["version", "current", "--path", str(r.path)], capsys)
    assert (code, out) == (0, "0.1.0\n")
    assert "no release on HEAD's line" in err
    r.tag("v0.1.0")
    r.commit("fix: x")
    code, out, err = run(
        ["version", "next", "--path", str(r.path), "--prerelease", "a", "--write", "--dry-run"],
        capsys,
    )
    assert (code, out) == (0, "0.1.1a0\n")
    assert "would set pyproject.toml" in err
    assert 'version = "0.1.0"' in (r.path / "pyproject.toml").read_text()
    code, out, err = run(
        ["version", "next", "--path", str(r.path), "--prerelease", "a", "--write"], capsys
    )
    assert code == 0
    assert 'version = "0.1.1a0"  # bumped by steward' in (r.path / "pyproject.toml").read_text()
    code, out, err = run(
        ["version", "next", "--path", str(r.path), "--prerelease", "a", "--write"], capsys
    )
    assert "already at 0.1.1a0" in err


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["version", "next", "--path", str(tmp_path)], capsys)
    assert code == 1
    assert err.startswith("error: ")
    assert "not a git repository" in err
    assert "Traceback" not in err
