"""`steward.workspace` on real files, directories, symlinks, FIFOs, sockets and device nodes.

Tests run as root here (as in GitHub Actions containers): file permissions protect nothing,
so only what the module checks does.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.errors import ConfigError, InputError, StewardError, UsageError
from steward.fsutil import atomic_write_text
from steward.workspace import Limit, Origin, Workspace, check_relative, read_bytes, read_text


def one_line(exc: pytest.ExceptionInfo[StewardError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    assert exc.value.exit_code == 2
    return text


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    (path / ".git" / "hooks").mkdir(parents=True)
    (path / "docs").mkdir()
    (path / "docs" / "a.md").write_text("a\n")
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret").write_text("hunter2\n")
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.fixture
def sock(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    yield path
    s.close()


@pytest.fixture
def device(tmp_path: Path) -> Path:
    path = tmp_path / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


# ---- the rule as text ----


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "not be empty"),
        ("/etc/passwd", "is absolute"),
        ("\\\\server\\share", "is absolute"),
        ("C:/x", "is absolute"),
        ("~/.gitconfig", "'~' is not expanded"),
        ("../x", "leaves the repository"),
        ("docs/../../x", "leaves the repository"),
        ("docs\\..\\..\\x", "leaves the repository"),
        (".git/config", "inside .git/"),
        (".GIT/hooks/pre-commit", "inside .git/"),
        ("vendor/lib/.git/config", "inside .git/"),
        ("a\x00b", "NUL"),
    ],
)
def test_check_relative_refuses(value: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_relative(value)


@pytest.mark.parametrize("value", ["CHANGELOG.md", "docs/a.md", "{path}/x.toml", ".github/x", "."])
def test_check_relative_accepts(value: str) -> None:
    assert check_relative(value) == value


# ---- config paths ----


def test_a_config_path_inside_is_returned_joined(root: Path) -> None:
    assert Workspace(root).config_path("docs/a.md", "s") == root / "docs" / "a.md"
    assert Workspace(root).config_path("new.md", "s", must_exist=False) == root / "new.md"
    assert Workspace(root).config_path("docs", "s", kind="dir") == root / "docs"


def test_a_symlink_inside_the_root_is_followed(root: Path) -> None:
    (root / "link.md").symlink_to("docs/a.md")
    assert Workspace(root).config_path("link.md", "s") == root / "link.md"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda r, o: (r / "x").symlink_to(o / "secret"), "resolves to .*, outside the repository"),
        (lambda r, o: (r / "x").symlink_to(".git/config"), r"resolves to .*, inside \.git/"),
        (lambda r, o: (r / "x").symlink_to("x"), "is a symlink loop"),
        (lambda r, o: (r / "x").mkdir(), "is a directory, not a regular file"),
        (lambda r, o: os.mkfifo(r / "x"), "is a FIFO, not a regular file"),
        (lambda r, o: None, "does not exist"),
    ],
    ids=["out", "git", "loop", "dir", "fifo", "missing"],
)
def test_a_config_path_is_refused_naming_setting_file_and_line(
    make: object, message: str, root: Path, outside: Path
) -> None:
    make(root, outside)  # type: ignore[operator]
    ws = Workspace(root, Origin(".github/steward.yml", {("changelog",): 3, ("changelog", "x"): 4}))
    with pytest.raises(ConfigError, match=rf"^\.github/steward\.yml:4: changelog\.x: x {message}"):
        ws.config_path("x", "changelog.x")


def test_a_config_dir_that_is_a_file_is_refused(root: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^release\.state_dir: docs/a\.md is a regular file, not"
    ):
        Workspace(root).config_path("docs/a.md", "release.state_dir", kind="dir")


def test_origin_finds_the_nearest_line() -> None:
    origin = Origin("f", {("packages",): 1, ("packages", 0): 2, ("packages", 0, "name"): 2})
    assert origin.line("packages.0.changelog") == 2
    assert origin.line("packages.3.changelog") == 1
    assert origin.line("changelog.output") is None


# ---- paths the user typed ----


def test_a_typed_path_may_lie_outside(root: Path, outside: Path) -> None:
    ws = Workspace(root)
    assert ws.cli_path(outside / "secret", "--x") == outside / "secret"
    assert ws.cli_path(outside / "new.md", "--x", must_exist=False) == outside / "new.md"


@pytest.mark.parametrize("kind", ["fifo", "sock", "device", "dev-null", "git", "git-link"])
def test_a_typed_path_is_never_a_special_file_or_in_git(
    kind: str, root: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "dev-null":
        path = Path("/dev/null")
    elif kind == "git":
        path = root / ".git" / "hooks" / "pre-commit"
    elif kind == "git-link":
        path = root / "hooks"
        path.symlink_to(root / ".git" / "hooks")
        path = path / "pre-commit"
    else:
        path = request.getfixturevalue(kind)
    with pytest.raises(UsageError) as exc:
        Workspace(root).cli_path(path, "--output", must_exist=False)
    assert one_line(exc).startswith(f"--output {path}: ")


def test_a_typed_path_error_can_be_an_input_error(root: Path, fifo: Path) -> None:
    with pytest.raises(InputError, match="is a FIFO"):
        Workspace(root).cli_path(fifo, "--payload", error=InputError)


# ---- reading ----


def test_read_text_keeps_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"\xef\xbb\xbfa\r\nb\n")
    assert read_text(path, 100, "file") == "\ufeffa\r\nb\n"


def test_read_text_non_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_bytes("# Änderungen\n".encode("latin-1"))
    with pytest.raises(UsageError) as exc:
        read_text(path, 100, "changelog", error=UsageError)
    text = one_line(exc)
    assert text.startswith(f"{path}: not UTF-8 text")
    assert "0xc4" in text


def test_read_missing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_bytes(tmp_path / "nope", 100, "payload")
    assert one_line(exc) == f"{tmp_path / 'nope'}: cannot read payload: no such file"
    with pytest.raises(ConfigError) as cexc:
        read_bytes(tmp_path / "nope", 100, "config", error=ConfigError, missing="not found")
    assert one_line(cexc) == f"{tmp_path / 'nope'}: not found"


@pytest.mark.parametrize("kind", ["fifo", "sock", "device"])
def test_read_never_reads_a_special_file(kind: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(kind)
    name = {"fifo": "a FIFO", "sock": "a socket", "device": "a character device"}[kind]
    with pytest.raises(InputError) as exc:
        read_bytes(path, 100, "payload")  # a FIFO with no writer: it would block forever
    assert one_line(exc) == f"{path}: payload is {name}, not a regular file"


def test_read_refuses_dev_zero_and_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a character device"):
        read_bytes(Path("/dev/zero"), 100, "payload")
    with pytest.raises(InputError, match="is a directory"):
        read_bytes(tmp_path, 100, "payload")


def test_read_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big"
    with path.open("wb") as fh:
        fh.truncate(Limit.TEMPLATE + 1)  # sparse
    with pytest.raises(ConfigError) as exc:
        read_text(path, Limit.TEMPLATE, "changelog template", error=ConfigError)
    assert one_line(exc) == f"{path}: changelog template is over the limit of 1 MB"
    path.write_bytes(b"x" * 10)
    assert read_bytes(path, 10, "f") == b"x" * 10


def test_read_follows_a_symlink_to_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("ok")
    (tmp_path / "link").symlink_to("real")
    assert read_text(tmp_path / "link", 10, "f") == "ok"


def test_a_directory_swapped_for_a_symlink_after_the_check_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process replaces a directory on the way by a symlink to a secret between the
    check and the open: the read is refused, the secret never read."""
    import steward.workspace as ws

    root, outside = tmp_path / "repo", tmp_path / "outside"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "t.j2").write_text("template")
    outside.mkdir()
    (outside / "t.j2").write_text("SECRET")
    resolve = ws._resolve

    def racing_resolve(path: Path) -> Path:
        real = resolve(path)
        (root / "docs").rename(root / "docs.old")
        (root / "docs").symlink_to(outside, target_is_directory=True)
        return real

    monkeypatch.setattr(ws, "_resolve", racing_resolve)
    with pytest.raises(InputError) as err:
        read_text(root / "docs" / "t.j2", Limit.TEMPLATE, "a template")
    assert "SECRET" not in str(err.value)
    assert "cannot read a template" in str(err.value)


# ---- writing ----


@pytest.mark.parametrize("kind", ["fifo", "sock", "device"])
def test_a_write_never_replaces_a_special_file(kind: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(kind)
    before = path.lstat().st_mode
    with pytest.raises(UsageError) as exc:
        atomic_write_text(path, "x")
    assert "not a regular file; refusing to replace it" in one_line(exc)
    assert path.lstat().st_mode == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_write_through_a_symlink_to_a_device_is_refused(root: Path, device: Path) -> None:
    (root / "CHANGELOG.md").symlink_to(device)
    with pytest.raises(UsageError, match="outside"):
        atomic_write_text(root / "CHANGELOG.md", "x", root=root)
    with pytest.raises(UsageError, match="a character device"):
        atomic_write_text(root / "CHANGELOG.md", "x")
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_a_write_into_git_of_the_root_is_refused(root: Path) -> None:
    with pytest.raises(UsageError, match=r"inside \.git/"):
        atomic_write_text(root / ".git" / "hooks" / "post-checkout", "x", root=root)
    assert not (root / ".git" / "hooks" / "post-checkout").exists()


def test_the_cache_directory_must_be_a_directory(root: Path) -> None:
    ws = Workspace(root)
    assert ws.cache_dir(root / ".git") == root / ".git" / "steward"
    (root / ".git" / "steward").symlink_to("/tmp")
    with pytest.raises(UsageError, match="is a symlink, not steward's cache directory"):
        ws.cache_dir(root / ".git")
