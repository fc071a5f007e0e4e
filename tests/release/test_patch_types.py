"""`version.patch_types`: which commit types release a patch.

The Conventional Commits spec gives types other than feat and fix no implicit effect; on the
playbook's own repository every type not in `version.ignore_types` released a patch, so
`deps: bump x`, and a whole message `BREAKING-CHANGE: drop py3.8` (a header of type
`breaking-change`, not a footer), released one. Now minor comes from `minor_types`, major from
breaking changes, a patch only from `patch_types` (default fix and perf); `["*"]` keeps the
old rule. Expected versions are written by hand from the history each test builds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run


def config(r: Repo, text: str) -> None:
    (r.path / ".github").mkdir(exist_ok=True)
    (r.path / ".github" / "steward.yml").write_text(text)


def next_version(r: Repo, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run(["version", "next", "--path", str(r.path)], capsys)
    assert code == 0, err
    return out.strip()


def released(tmp_path: Path, name: str = "r") -> Repo:
    r = Repo(tmp_path / name)
    r.commit("feat: start")
    r.tag("v1.0.0")
    return r


@pytest.mark.parametrize(
    "message",
    [
        "deps: bump x",
        "BREAKING-CHANGE: drop py3.8",
        "docs: explain",
        "chore: tidy",
        "refactor(api): split",
        "build: new backend",
        "ci: new runner",
    ],
)
def test_other_types_release_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], message: str
) -> None:
    r = released(tmp_path)
    r.commit(message)
    assert next_version(r, capsys) == "1.0.0"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("fix: a crash", "1.0.1"),
        ("perf: faster", "1.0.1"),
        ("feat: more", "1.1.0"),
        ("docs!: the API page moved", "2.0.0"),  # breaking: any type
        ("chore: tidy\n\nBREAKING CHANGE: drops py3.8", "2.0.0"),
    ],
)
def test_fix_perf_feat_and_breaking_changes_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], message: str, expected: str
) -> None:
    r = released(tmp_path)
    r.commit("docs: explain")
    r.commit(message)
    assert next_version(r, capsys) == expected


def test_star_keeps_every_type_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    config(r, "version:\n  patch_types: ['*']\n")
    r.commit("ci: new runner")
    r.commit("test: more")
    assert next_version(r, capsys) == "1.0.0"  # ignore_types still applies
    r.commit("deps: bump x")
    assert next_version(r, capsys) == "1.0.1"
    config(r, "version:\n  patch_types: ['*']\n  ignore_types: [ci, test, deps]\n")
    assert next_version(r, capsys) == "1.0.0"


def test_a_listed_type_releases_a_patch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = released(tmp_path)
    config(r, "version:\n  patch_types: [fix, deps]\n")
    r.commit("perf: faster")  # no longer listed
    assert next_version(r, capsys) == "1.0.0"
    r.commit("deps: bump x")
    assert next_version(r, capsys) == "1.0.1"
    config(r, "version:\n  patch_types: [fix, deps]\n  ignore_types: [deps]\n")
    assert next_version(r, capsys) == "1.0.0"  # ignored wins over listed


def test_nonconventional_patch_still_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    r.commit("Update README.md")
    assert next_version(r, capsys) == "1.0.0"
    config(r, "version:\n  nonconventional: patch\n")
    assert next_version(r, capsys) == "1.0.1"


def test_a_revert_releases_what_the_reverted_change_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Undoing a released fix or feature changes what users get; undoing docs does not."""
    r = released(tmp_path)
    r.commit("docs: explain (#12)")
    r.commit("feat: risky (#13)")
    r.tag("v1.1.0")
    r.commit('Revert "docs: explain (#12)" (#14)')
    assert next_version(r, capsys) == "1.1.0"
    r.commit('Revert "feat: risky (#13)" (#15)')
    assert next_version(r, capsys) == "1.1.1"


def test_a_revert_of_what_cannot_be_read_releases_a_patch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    r.commit("Update the parser")
    r.tag("v1.0.1")
    r.commit('Revert "Update the parser"\n\nThis reverts commit 0123456.')
    assert next_version(r, capsys) == "1.0.2"
    config(r, "version:\n  ignore_types: [revert]\n")
    assert next_version(r, capsys) == "1.0.1"


def test_body_lines_count_by_the_same_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    config(r, "changelog:\n  body_entries: true\n")
    r.commit("chore: squash (#20)\n\n* docs: explain\n* refactor: split\n")
    assert next_version(r, capsys) == "1.0.0"
    r.commit("chore: squash (#21)\n\n* docs: explain more\n* fix(api): nulls\n")
    assert next_version(r, capsys) == "1.0.1"


def test_a_configured_patch_type_counts_in_a_body(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = released(tmp_path)
    config(r, "changelog:\n  body_entries: true\nversion:\n  patch_types: [fix, deps]\n")
    r.commit("chore: squash (#22)\n\n* deps: bump x\n")
    assert next_version(r, capsys) == "1.0.1"


def test_all_packages_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path / "mono")
    config(
        r,
        "packages:\n  - name: core\n    paths: [core]\n  - name: cli\n    paths: [cli]\n",
    )
    for pkg in ("core", "cli"):
        (r.path / pkg).mkdir()
        (r.path / pkg / "pyproject.toml").write_text(
            f'[project]\nname = "{pkg}"\nversion = "1.0.0"\n'
        )
    r.git("add", ".")
    r.commit("feat: first", file="core/a.py")
    r.tag("core-v1.0.0")
    r.tag("cli-v1.0.0")
    r.commit("docs(core): explain", file="core/a.py")
    r.commit("fix(cli): a crash", file="cli/a.py")
    code, out, err = run(["version", "next", "--path", str(r.path), "--all", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["to_release"] == ["cli"]
    assert [(p["package"], p["version"]) for p in data["packages"]] == [
        ("core", "1.0.0"),
        ("cli", "1.0.1"),
    ]


def test_release_notes_from_git_agree_with_version_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    r = released(tmp_path)
    r.commit("docs: explain (#12)")
    r.commit("ci: new runner (#13)")
    argv = ["release", "notes", "--from-git", "--path", str(r.path), "--json"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    notes = json.loads(out)
    assert (notes["version"], notes["level"]) == ("1.0.0", None)
    assert [c["title"] for cat in notes["categories"] for c in cat["changes"]] == [
        "docs: explain",  # 📜 Documentation updates comes before the maintenance category
        "ci: new runner",
    ]  # listed all the same
    assert next_version(r, capsys) == "1.0.0"
    r.commit("perf: faster (#14)")
    code, out, err = run(argv, capsys)
    assert (json.loads(out)["version"], json.loads(out)["level"]) == ("1.0.1", "patch")
    assert next_version(r, capsys) == "1.0.1"


def test_star_goes_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "steward.yml"
    f.write_text("version:\n  patch_types: [fix, '*']\n")
    code, out, err = run(["config", "check", str(f)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {f}:2: version.patch_types: ")
    assert "'*'" in err
