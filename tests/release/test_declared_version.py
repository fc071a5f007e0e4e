"""A project file that is there but cannot be read as one is an error, never "no version"
(#16): with no release tag, `steward version` and `steward release notes` take the version
the project declares, and an invalid or undecodable pyproject.toml used to make them print
`version.initial_version` instead, exit 0, as if the project declared nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run

COMMANDS = [
    ["version", "current"],
    ["version", "next"],
    ["release", "notes", "--from-git"],
]
IDS = [" ".join(c) for c in COMMANDS]


def repo_with(tmp_path: Path, content: bytes | None, name: str = "pyproject.toml") -> Repo:
    r = Repo(tmp_path / "r")
    if content is not None:
        (r.path / name).write_bytes(content)
    r.commit("feat: first (#1)")
    return r


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'[project\nname = "x"\nversion = "1.2.3"\n', "invalid TOML"),
        (b'[project]\nname = "d\xe9mo"\nversion = "1.2.3"\n', "not UTF-8 text (byte 0xe9"),
        (b'[project]\nname = "x"\nversion = "one.two"\n', "'one.two' is not a PEP 440 version"),
    ],
    ids=["invalid-toml", "not-utf8", "not-a-version"],
)
def test_a_project_file_that_cannot_be_read_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    content: bytes,
    says: str,
) -> None:
    r = repo_with(tmp_path, content)
    code, out, err = run([*command, "--path", str(r.path)], capsys)
    assert code == 2, (out, err)
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: "), err
    assert says in last, err
    assert "Traceback" not in err
    assert "initial_version" not in err


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize(
    "content",
    [None, b"[tool.ruff]\nline-length = 100\n", b'[project]\nname = "x"\ndynamic = ["version"]\n'],
    ids=["no-file", "no-project-table", "dynamic"],
)
def test_a_project_that_declares_no_version_falls_back_to_the_initial_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], content: bytes | None
) -> None:
    """The other side: no file, or one that declares no version, is no error."""
    r = repo_with(tmp_path, content)
    code, out, err = run([*command, "--path", str(r.path)], capsys)
    assert code == 0, err
    assert "0.1.0" in out or "0.1.0" in err


def test_a_configured_version_file_that_is_missing_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`version.version_file` names a file on purpose: its absence is a config error."""
    r = repo_with(tmp_path, None)
    config = r.path / "steward.yml"
    config.write_text("version:\n  version_file: src/pkg/__init__.py\n")
    code, _, err = run(
        ["version", "current", "--path", str(r.path), "--config", str(config)], capsys
    )
    assert code == 2, err
    assert "version file not found" in err.strip().splitlines()[-1]
