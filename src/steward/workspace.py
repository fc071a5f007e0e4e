"""The one boundary between the paths a repository, a user or a server names and this machine.

steward runs in CI on checkouts it does not control, with tokens in its environment, often as
root (GitHub Actions containers). So every path that comes from the repository's config, from
a command-line option or from a payload is checked here, and only here:

* `Workspace.config_path`: a value of `.github/steward.yml` (or a default standing for one).
  It is relative, and inside the checkout (the directory named by ``--path``) after every
  symlink is resolved; it never lies in a ``.git`` directory; it is a regular file or a
  directory, as the setting expects, never a device, a FIFO or a socket. A refusal is a
  `ConfigError` naming the setting, and the config file and line when they are known.
* `Workspace.cli_path`: a path typed on the command line. It may lie outside the checkout
  (``--output /tmp/x.md`` is the user's choice, which a config value never is), but it is
  never a device, a FIFO or a socket, nor inside a ``.git`` directory. A refusal is a
  `UsageError` naming the option.
* `read_text` and `read_bytes`: a file opened one path component at a time, each with
  ``O_NOFOLLOW`` (a directory swapped for a symlink after the check is not followed) and
  ``O_NONBLOCK`` (a FIFO never blocks the read), checked to be a regular file with ``fstat``
  before a byte is read, and read up to a size cap that depends on the kind of file
  (`Limit`).
* `write_target`: the file a write would replace (`steward.fsutil.atomic_write_text` asks
  it): a symlink is written through only when its target stays inside the root, and what
  is there must be a regular file: renaming over ``/dev/null`` as root would put a regular
  file in the device's place.
* `check_relative`: the rule a config path obeys on its own (no absolute path, no ``..``, no
  ``.git``), for the config model's validators, so `steward config check` reports it with
  file and line.

Every refusal is one line, and exit code 2 (`steward.errors`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Literal

from steward.errors import ConfigError, InputError, StewardError, UsageError
from steward.limits import size_text

Kind = Literal["file", "dir"]
Key = tuple[str | int, ...]
GIT_DIR = ".git"
CACHE = "steward"  # .git/steward: steward's own cache, the one place under .git it writes


class Limit(IntEnum):
    """The most steward reads of each kind of file: a larger one is an error, never a hang
    or a machine out of memory (/dev/zero, a sparse file of a terabyte)."""

    CONFIG = 1_000_000  # .github/steward.yml, the server's TOML
    TEMPLATE = 1_000_000  # a changelog template
    PROJECT = 4_000_000  # pyproject.toml, a file with __version__
    CHANGELOG = 64 * 1024 * 1024  # CHANGELOG.md (a 200,000-commit history is ~20 MB)
    PAYLOAD = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
    KEY = 64 * 1024  # a PEM key, a webhook secret
    PROVENANCE = 16 * 1024 * 1024  # multiple.intoto.jsonl (a release's is kilobytes)
    STATE = 16 * 1024 * 1024  # a release's recorded state.json (a few KB)
    ASSET = 256 * 1024 * 1024  # an E2E layer zip or CDK asset (Lambda: 250 MB unzipped)
    MANIFEST = 16 * 1024 * 1024  # a CDK cloud assembly's JSON (kilobytes)


def check_relative(value: str) -> str:
    """``value`` when, as text, it can name something inside a repository: relative, no
    ``..``, no ``~``, no ``.git`` component, no NUL; else a ValueError saying why."""
    if not value:
        raise ValueError("must name a path inside the repository, not be empty")
    if "\x00" in value:
        raise ValueError("must not hold a NUL character")
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"{value!r} is absolute: a config path is relative, inside the repository")
    if parts[0] == "~" or parts[0].startswith("~"):
        raise ValueError(f"{value!r}: '~' is not expanded: a config path is inside the repository")
    if ".." in parts:
        raise ValueError(
            f"{value!r} leaves the repository ('..'): a path stays inside the repository"
        )
    if any(p.casefold() == GIT_DIR for p in parts):
        raise ValueError(f"{value!r} is inside .git/: steward never reads or writes git's files")
    return value


def describe(mode: int) -> str:
    """What a file is, for a message: "a directory", "a FIFO", "a character device"..."""
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symlink"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _in_git_dir(parts: tuple[str, ...]) -> bool:
    return any(p.casefold() == GIT_DIR for p in parts)


def _resolve(path: Path) -> Path:
    """``path`` with every symlink resolved (what does not exist yet is kept as is);
    OSError for a symlink loop."""
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 reports a loop this way
        raise OSError(errno.ELOOP, "symlink loop") from None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a config came from: the file (as named) and the line of every key path, so a
    refused path setting is reported at its line."""

    source: str
    lines: Mapping[Key, int] = field(default_factory=dict)

    def line(self, setting: str) -> int | None:
        key: Key = tuple(int(p) if p.isdigit() else p for p in setting.split("."))
        for end in range(len(key), 0, -1):
            found = self.lines.get(key[:end])
            if found is not None:
                return found
        return None


class Workspace:
    """The checkout (or the directory the user named) the paths of one command resolve in."""

    def __init__(self, root: Path, origin: Origin | None = None) -> None:
        self.root = Path(root)
        self.origin = origin
        try:
            self.real = _resolve(self.root)
        except OSError:
            raise UsageError(f"{self.root}: symlink loop") from None

    # -- what a config names ------------------------------------------------------------------

    def config_path(
        self, value: str, setting: str, *, kind: Kind = "file", must_exist: bool = True
    ) -> Path:
        """``root / value`` once the checks above pass; else a `ConfigError` naming
        ``setting`` (dotted, as in the file: ``packages.0.changelog``)."""
        problem = self._problem(value, kind, must_exist)
        if problem is not None:
            raise self._config_error(setting, problem)
        return self.root / value

    def own_path(self, value: str, *, kind: Kind = "file", must_exist: bool = False) -> Path:
        """``root / value`` for a file steward itself names in the checkout (what
        `steward init` writes), held to the rules of a config path; a `UsageError`."""
        problem = self._problem(value, kind, must_exist)
        if problem is not None:
            raise UsageError(f"{self.root}: {problem}")
        return self.root / value

    def _problem(self, value: str, kind: Kind, must_exist: bool) -> str | None:
        """Why ``value`` may not be used as a path inside the root, or None."""
        try:
            check_relative(value)
        except ValueError as exc:
            return str(exc)
        try:
            real = _resolve(self.root / value)
        except OSError:
            return f"{value} is a symlink loop"
        if not _inside(real, self.real):
            return (
                f"{value} resolves to {real}, outside the repository {self.root}: "
                "a config path must stay inside it"
            )
        if _in_git_dir(real.relative_to(self.real).parts):
            return f"{value} resolves to {real}, inside .git/: steward never touches it"
        problem = _kind_problem(real, kind, must_exist)
        return None if problem is None else f"{value} {problem}"

    def _config_error(self, setting: str, message: str) -> ConfigError:
        origin = self.origin
        if origin is None:
            return ConfigError(f"{setting}: {message}")
        return ConfigError(f"{setting}: {message}", path=origin.source, line=origin.line(setting))

    # -- what the user typed ------------------------------------------------------------------

    def cli_path(
        self,
        value: str | Path,
        option: str,
        *,
        kind: Kind = "file",
        must_exist: bool = True,
        error: type[StewardError] = UsageError,
    ) -> Path:
        """``value`` (relative to the current directory, as a shell means it) once it is
        known not to be a device, a FIFO, a socket or inside a ``.git`` directory; anywhere
        else is the user's choice. A refusal is ``error`` (exit 2) naming ``option``."""
        path = Path(value)
        try:
            real = _resolve(path)
        except OSError:
            raise error(f"{option} {path}: symlink loop") from None
        parts = real.relative_to(self.real).parts if _inside(real, self.real) else real.parts
        if _in_git_dir(parts):
            raise error(f"{option} {path}: inside a .git directory, which steward never touches")
        problem = _kind_problem(real, kind, must_exist)
        if problem is not None:
            raise error(f"{option} {path}: {problem}")
        return path

    # -- steward's own ------------------------------------------------------------------------

    def cache_dir(self, git_dir: Path) -> Path:
        """steward's cache in the repository's git directory (``.git/steward``), the one
        place under ``.git`` it writes; refused when it is not a directory of its own."""
        path = git_dir / CACHE
        try:
            st = path.lstat()
        except FileNotFoundError:
            return path
        if not stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{path} is {describe(st.st_mode)}, not steward's cache directory")
        return path


def _kind_problem(real: Path, kind: Kind, must_exist: bool) -> str | None:
    """Why ``real`` (symlinks resolved) cannot be used as ``kind``, or None."""
    try:
        st = real.lstat()
    except FileNotFoundError:
        return "does not exist" if must_exist else None
    except NotADirectoryError:
        return "cannot exist: a part of it is a file, not a directory"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if kind == "dir":
        return None if stat.S_ISDIR(st.st_mode) else f"is {describe(st.st_mode)}, not a directory"
    if stat.S_ISREG(st.st_mode):
        return None
    return f"is {describe(st.st_mode)}, not a regular file"


# -- reading ------------------------------------------------------------------------------------


def _fail(error: type[StewardError], path: Path, message: str) -> StewardError:
    if issubclass(error, ConfigError):
        return error(message, path=str(path))
    return error(f"{path}: {message}")


def read_bytes(
    path: Path,
    limit: int,
    what: str,
    *,
    error: type[StewardError] = InputError,
    missing: str | None = None,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Opened without following a symlink after the symlinks are resolved, and checked
    with ``fstat`` before anything is read: a FIFO, a device, a socket or a directory is
    refused, never read (a FIFO would block, /dev/zero never end). A file over ``limit``
    (even one growing while read) is refused too. Every refusal is one line, as ``error``
    (exit 2), naming ``path`` and ``what`` it should have been; ``missing`` replaces the
    message for a file that does not exist.
    """
    path = Path(path)
    try:
        real = _resolve(path)
        st = real.stat()
    except FileNotFoundError:
        raise _fail(error, path, missing or f"cannot read {what}: no such file") from None
    except OSError as exc:
        raise _fail(error, path, f"cannot read {what}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _fail(error, path, f"{what} is {describe(st.st_mode)}, not a regular file")
    try:
        fd = _open_no_follow(real)
    except OSError as exc:
        raise _fail(error, path, f"cannot read {what}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced since it was looked at
            raise _fail(error, path, f"{what} is {describe(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise _fail(error, path, f"{what} is over the limit of {size_text(limit)}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _fail(error, path, f"cannot read {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise _fail(error, path, f"{what} is over the limit of {size_text(limit)}")
    return b"".join(chunks)


def read_text(
    path: Path,
    limit: int,
    what: str,
    *,
    error: type[StewardError] = InputError,
    missing: str | None = None,
) -> str:
    """`read_bytes` decoded as UTF-8, byte for byte: no newline translation, a BOM kept
    (a writer can keep both). Not UTF-8 is one line naming the byte and its offset."""
    data = read_bytes(path, limit, what, error=error, missing=missing)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(
            error,
            path,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it to UTF-8",
        ) from None


def _open_no_follow(real: Path) -> int:
    """A read-only descriptor of ``real`` (absolute, symlinks already resolved), opened one
    component at a time, each with ``O_NOFOLLOW``: a directory on the way that became a
    symlink since ``real`` was resolved (another process racing the check) is refused
    (ELOOP or ENOTDIR), never followed. ``O_NONBLOCK``: a FIFO put in the file's place does
    not block the open."""
    cloexec = getattr(os, "O_CLOEXEC", 0)
    walk = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | cloexec
    parts = real.parts
    fd = os.open(parts[0], os.O_RDONLY | os.O_DIRECTORY | cloexec)
    try:
        for part in parts[1:-1]:
            nxt = os.open(part, walk, dir_fd=fd)
            os.close(fd)
            fd = nxt
        last = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | cloexec
        return os.open(parts[-1], last, dir_fd=fd) if len(parts) > 1 else os.dup(fd)
    finally:
        os.close(fd)


# -- writing ------------------------------------------------------------------------------------


def write_target(path: Path, *, root: Path | None = None) -> Path:
    """The file a write to ``path`` would replace, after the safety checks.

    A symlink resolves to its target, refused when ``root`` is given and the target lies
    outside it; a path inside ``root`` whose directory resolves outside it is refused too,
    and so is one inside a ``.git`` directory of ``root``. What is there must be a regular
    file (or nothing): a directory, a device, a FIFO or a socket is refused, never replaced.
    The parent directory must exist: nothing is created. Every refusal is a `UsageError`.
    """
    path = Path(path)
    real_root = _resolve(root) if root is not None else None
    if path.is_symlink():
        try:
            dest = _resolve(path)
        except OSError:
            raise UsageError(f"{path}: symlink loop; refusing to write") from None
        if real_root is not None and not _inside(dest, real_root):
            raise UsageError(
                f"{path} is a symlink to {dest}, outside {root}; refusing to write through it"
            )
    else:
        dest = path
        if (
            real_root is not None
            and root is not None
            and _inside(_lexical(path), _lexical(root))
            and path.parent.is_dir()
            and not _inside(_resolve(path.parent), real_root)
        ):
            raise UsageError(
                f"{path}: its directory resolves to {_resolve(path.parent)}, outside {root}; "
                "refusing to write there"
            )
    if real_root is not None:
        real = _resolve(dest)
        if _inside(real, real_root) and _in_git_dir(real.relative_to(real_root).parts):
            raise UsageError(f"{path}: inside .git/; refusing to write git's files")
    parent = dest.parent
    if not parent.exists():
        raise UsageError(f"directory {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{parent} is not a directory")
    try:
        st = dest.lstat()
    except FileNotFoundError:
        return dest
    except OSError as exc:
        raise UsageError(f"{dest}: cannot write: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{dest} is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(
            f"{dest} is {describe(st.st_mode)}, not a regular file; refusing to replace it"
        )
    return dest


def _lexical(path: Path) -> Path:
    return Path(os.path.normpath(path.absolute()))
