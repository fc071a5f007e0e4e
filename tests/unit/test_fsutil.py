"""`atomic_write_text` on real files, symlinks and directories (reads: test_workspace)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from steward.errors import UsageError
from steward.fsutil import atomic_write_text


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def one_line(exc: pytest.ExceptionInfo[UsageError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_new_file_is_0644_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        written = atomic_write_text(tmp_path / "a.md", "hello\n")
    finally:
        os.umask(old)
    assert written == tmp_path / "a.md"
    assert (tmp_path / "a.md").read_bytes() == b"hello\n"
    assert mode_of(tmp_path / "a.md") == 0o644
    assert leftovers(tmp_path) == []


def test_mode_argument_for_secrets(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "token", "s3cret", mode=0o600)
    assert mode_of(tmp_path / "token") == 0o600


@pytest.mark.parametrize("existing", [0o600, 0o755, 0o664])
def test_existing_mode_is_kept(tmp_path: Path, existing: int) -> None:
    path = tmp_path / "script.sh"
    path.write_text("old\n")
    path.chmod(existing)
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert mode_of(path) == existing


def test_newline_like_open(tmp_path: Path) -> None:
    path = tmp_path / "f"
    atomic_write_text(path, "a\nb\n", newline="\r\n")
    assert path.read_bytes() == b"a\r\nb\r\n"
    atomic_write_text(path, "a\r\nb\n", newline="")
    assert path.read_bytes() == b"a\r\nb\n"


def test_symlink_inside_root_writes_through(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    target = tmp_path / "docs" / "CHANGES.md"
    target.write_text("old\n")
    link = tmp_path / "CHANGELOG.md"
    link.symlink_to("docs/CHANGES.md")
    written = atomic_write_text(link, "new\n", root=tmp_path)
    assert written == target
    assert link.is_symlink()  # the link is not replaced by a regular file
    assert target.read_text() == "new\n"


def test_symlink_outside_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    outside = tmp_path / "home" / ".bashrc"
    outside.parent.mkdir()
    outside.write_text("precious\n")
    link = root / "CHANGELOG.md"
    link.symlink_to(outside)
    with pytest.raises(UsageError) as exc:
        atomic_write_text(link, "pwned\n", root=root)
    assert "outside" in one_line(exc)
    assert outside.read_text() == "precious\n"
    assert link.is_symlink()
    assert leftovers(root) == []
    assert leftovers(outside.parent) == []


def test_symlink_chain_ending_outside_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    outside = tmp_path / "secret"
    outside.write_text("x")
    (root / "hop").symlink_to(outside)
    (root / "CHANGELOG.md").symlink_to("hop")
    with pytest.raises(UsageError):
        atomic_write_text(root / "CHANGELOG.md", "y", root=root)
    assert outside.read_text() == "x"


def test_symlinked_directory_leading_outside_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "docs").symlink_to(elsewhere)
    with pytest.raises(UsageError) as exc:
        atomic_write_text(root / "docs" / "CHANGELOG.md", "x", root=root)
    assert "outside" in one_line(exc)
    assert list(elsewhere.iterdir()) == []


def test_symlink_without_root_writes_through(tmp_path: Path) -> None:
    target = tmp_path / "real"
    target.write_text("a")
    (tmp_path / "link").symlink_to(target)
    atomic_write_text(tmp_path / "link", "b")
    assert target.read_text() == "b"


def test_symlink_loop_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(UsageError) as exc:
        atomic_write_text(tmp_path / "a", "x", root=tmp_path)
    one_line(exc)


def test_missing_directory_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        atomic_write_text(tmp_path / "no" / "such" / "CHANGELOG.md", "x", root=tmp_path)
    assert one_line(exc) == f"directory {tmp_path / 'no' / 'such'} does not exist"
    assert list(tmp_path.iterdir()) == []


def test_directory_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "CHANGELOG.md").mkdir()
    with pytest.raises(UsageError) as exc:
        atomic_write_text(tmp_path / "CHANGELOG.md", "x")
    assert "is a directory" in one_line(exc)


def test_encoding_failure_keeps_old_file(tmp_path: Path) -> None:
    path = tmp_path / "f.md"
    path.write_bytes(b"old\n")
    with pytest.raises(UsageError) as exc:
        atomic_write_text(path, "caf\udce9\n")  # a lone surrogate cannot be UTF-8
    one_line(exc)
    assert path.read_bytes() == b"old\n"
    assert leftovers(tmp_path) == []


def test_failed_rename_keeps_old_file_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.md"
    path.write_bytes(b"old\n")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(UsageError) as exc:
        atomic_write_text(path, "new\n")
    assert "No space left" in one_line(exc)
    assert path.read_bytes() == b"old\n"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "f.md"
    path.write_text("old\n")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(UsageError) as exc:
            atomic_write_text(path, "new\n")
    finally:
        tmp_path.chmod(0o755)
    one_line(exc)
    assert path.read_text() == "old\n"
