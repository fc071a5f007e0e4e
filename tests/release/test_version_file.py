"""`write_version` keeps what it did not mean to change: line endings, BOM, permissions.

Before, it read with newline translation and wrote "\\n": a Windows-edited pyproject.toml
came back with every line changed, and one with a BOM could not be read at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.cli.main import main
from steward.config.release import VersionConfig
from steward.errors import ConfigError
from steward.release.version_file import read_version, write_version
from tests.release.gitrepo import Repo

CFG = VersionConfig()
BOM = b"\xef\xbb\xbf"
PYPROJECT = (
    b"# top comment\r\n"
    b"[project]\r\n"
    b'name = "demo"   # the name\r\n'
    b'version = "1.2.3"  # bumped by steward\r\n'
    b"dependencies = [\r\n"
    b'    "click>=8",  # cli\r\n'
    b"]\r\n"
    b"\r\n"
    b"[tool.ruff]\r\n"
    b"line-length = 100\r\n"
)


def lf_lines(data: bytes) -> int:
    return data.count(b"\n") - data.count(b"\r\n")


@pytest.mark.parametrize("bom", [b"", BOM], ids=["crlf", "crlf+bom"])
def test_crlf_and_bom_survive(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(bom + PYPROJECT)
    assert read_version(tmp_path, CFG) == "1.2.3"
    assert write_version(tmp_path, "1.3.0", CFG) == path
    data = path.read_bytes()
    assert data == bom + PYPROJECT.replace(b'"1.2.3"', b'"1.3.0"')
    assert lf_lines(data) == 0
    assert read_version(tmp_path, CFG) == "1.3.0"


def test_dunder_file_keeps_crlf_and_bom(tmp_path: Path) -> None:
    cfg = VersionConfig(version_file="pkg/__init__.py")
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "__init__.py"
    path.write_bytes(BOM + b'__version__ = "2.0.0"\r\nx = 1\r\n')
    assert read_version(tmp_path, cfg) == "2.0.0"
    write_version(tmp_path, "2.1.0", cfg)
    assert path.read_bytes() == BOM + b'__version__ = "2.1.0"\r\nx = 1\r\n'


def test_permissions_are_kept_and_same_version_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(PYPROJECT)
    path.chmod(0o664)
    write_version(tmp_path, "1.3.0", CFG)
    assert path.stat().st_mode & 0o777 == 0o664
    before = path.stat().st_mtime_ns, path.stat().st_ino
    write_version(tmp_path, "1.3.0", CFG)
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_symlinked_pyproject_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    outside = tmp_path / "other.toml"
    outside.write_bytes(PYPROJECT)
    (repo / "pyproject.toml").symlink_to(outside)
    with pytest.raises(
        ConfigError, match=r"version\.pyproject: pyproject\.toml resolves to .*, outside"
    ):
        write_version(repo, "9.9.9", CFG)
    assert outside.read_bytes() == PYPROJECT


def test_non_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "d\xe9mo"\nversion = "1"\n')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        write_version(tmp_path, "2", CFG)


def test_cli_version_next_write_keeps_crlf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = Repo(tmp_path / "r")
    (r.path / "pyproject.toml").write_bytes(PYPROJECT.replace(b"1.2.3", b"0.1.0"))
    r.commit("feat: start")
    r.tag("v0.1.0")
    r.commit("feat: more")
    with pytest.raises(SystemExit) as exc:
        main(["version", "next", "--path", str(r.path), "--write"])
    out = capsys.readouterr()
    assert exc.value.code in (0, None), out.err
    assert out.out == "0.2.0\n"
    assert (r.path / "pyproject.toml").read_bytes() == PYPROJECT.replace(b"1.2.3", b"0.2.0")
