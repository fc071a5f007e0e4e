"""Monorepos: `packages:` gives each package its paths, tags, version file and changelog;
`--package` and `--all` look only at the commits that touch a package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run

CONFIG = """\
packages:
  - name: core
    paths: [packages/core]
  - name: cli
    paths: [packages/cli, tools/cli.py]
    tag_pattern: "cli/v{version}"
"""


@pytest.fixture
def mono(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "mono")
    (r.path / ".github").mkdir()
    (r.path / ".github" / "steward.yml").write_text(CONFIG)
    for pkg in ("core", "cli"):
        (r.path / "packages" / pkg).mkdir(parents=True)
        (r.path / "packages" / pkg / "pyproject.toml").write_text(
            f'[project]\nname = "{pkg}"\nversion = "1.0.0"\n'
        )
    (r.path / "tools").mkdir()
    r.git("add", ".")
    r.commit("feat(core): first core", file="packages/core/a.py")
    r.commit("feat(cli): first cli", file="packages/cli/a.py")
    r.tag("core-v1.0.0")
    r.tag("cli/v1.0.0")
    r.commit("fix(core): core bug", file="packages/core/a.py")
    r.commit("docs: readme only", file="README.md")
    r.commit("feat(cli): script entry", file="tools/cli.py")
    r.commit("feat!: both at once", file="packages/core/b.py")
    return r


def test_version_next_per_package_and_all(mono: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["version", "next", "--path", str(mono.path), "--package", "cli"], capsys)
    assert (code, out) == (0, "1.1.0\n"), err
    code, out, _ = run(["version", "next", "--path", str(mono.path), "--package", "core"], capsys)
    assert out == "2.0.0\n"
    code, out, _ = run(["version", "next", "--path", str(mono.path), "--all", "--json"], capsys)
    data = json.loads(out)
    assert data["to_release"] == ["core", "cli"]
    assert [(p["package"], p["current"], p["version"], p["tag"]) for p in data["packages"]] == [
        ("core", "1.0.0", "2.0.0", "core-v2.0.0"),
        ("cli", "1.0.0", "1.1.0", "cli/v1.1.0"),
    ]
    mono.tag("cli/v1.1.0")
    code, out, _ = run(["version", "next", "--path", str(mono.path), "--all", "--json"], capsys)
    assert json.loads(out)["to_release"] == ["core"]


def test_changelog_and_notes_per_package(mono: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["changelog", "--path", str(mono.path), "--package", "core", "--json"], capsys
    )
    assert code == 0, err
    got = {
        v["version"]: [e["subject"] for s in v["sections"] for e in s["entries"]]
        for v in json.loads(out)["versions"]
    }
    assert got == {None: ["core bug", "both at once"], "1.0.0": ["first core"]}
    assert "cli/v1.0.0" not in err  # another package's tags are not "ignored"
    # --output without a value writes the package's own changelog ({path}/CHANGELOG.md)
    code, _, err = run(
        ["changelog", "--path", str(mono.path), "--package", "core", "--output"], capsys
    )
    assert code == 0, err
    written = (mono.path / "packages" / "core" / "CHANGELOG.md").read_text()
    assert "core bug" in written
    assert "first cli" not in written
    code, out, err = run(
        ["release", "notes", "--from-git", "--path", str(mono.path), "--package", "cli", "--json"],
        capsys,
    )
    assert code == 0, err
    notes = json.loads(out)
    assert notes["tag"] == "cli/v1.1.0"
    assert [c["title"] for cat in notes["categories"] for c in cat["changes"]] == [
        "feat(cli): script entry"
    ]


def test_unknown_package_and_single_package_repos(
    mono: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["version", "next", "--path", str(mono.path), "--package", "web"], capsys)
    assert code == 2
    assert "no such package" in err
    assert "core, cli" in err
    single = Repo(tmp_path / "single")
    single.commit("feat: a")
    code, _, err = run(["version", "next", "--path", str(single.path), "--all"], capsys)
    assert code == 2
    assert "no `packages:`" in err


@pytest.mark.parametrize(
    ("scopes", "why"),
    [
        ('[""]', "must be one non-empty conventional scope"),
        ("[core(x)]", "must be one non-empty conventional scope"),
        ('["core,cli"]', "must be one non-empty conventional scope"),
        ("core", "scopes"),  # a bare string is neither true/false nor a list
    ],
)
def test_package_scopes_are_checked(
    mono: Repo, scopes: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = mono.path / ".github" / "steward.yml"
    config.write_text(
        CONFIG.replace(
            "    paths: [packages/core]\n", f"    paths: [packages/core]\n    scopes: {scopes}\n"
        )
    )
    code, _, err = run(["version", "next", "--path", str(mono.path), "--package", "core"], capsys)
    assert code == 2
    assert "packages.0.scopes" in err
    assert why in err
