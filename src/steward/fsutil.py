"""Safe file writes and strict reads for the files steward rewrites in a user's repository.

``atomic_write_text`` writes a temporary file beside the target, fsyncs it and renames it over
the target, so a crash, a full disk or a bad encoding leaves either the old file or the new
one, never half of each; the old file's permission bits are kept. A symlink is written
through to its target only when the target stays inside ``root``: a repository could
otherwise point ``CHANGELOG.md`` at any file the user can write. Every refusal is a
one-line ``UsageError``.

``read_text_strict`` returns the file's text exactly as stored (line endings and a BOM
included, so a writer can keep them) and turns "not UTF-8" into a one-line ``UsageError``
instead of a traceback.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from steward.errors import UsageError

NEW_FILE_MODE = 0o644


def read_text_strict(path: Path) -> str:
    """The file decoded as UTF-8, byte for byte (no newline translation, BOM kept)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it to UTF-8"
        ) from None


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _lexical(path: Path) -> Path:
    return Path(os.path.normpath(path.absolute()))


def resolve_target(path: Path, *, root: Path | None = None) -> Path:
    """The file a write to ``path`` would replace, after the safety checks.

    A symlink resolves to its target, refused when ``root`` is given and the target lies
    outside it; a path inside ``root`` whose directory resolves outside it is refused too.
    The parent directory must exist: nothing is created.
    """
    path = Path(path)
    real_root = root.resolve() if root is not None else None
    if path.is_symlink():
        try:
            dest = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
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
            and not _inside(path.parent.resolve(), real_root)
        ):
            raise UsageError(
                f"{path}: its directory resolves to {path.parent.resolve()}, outside {root}; "
                "refusing to write there"
            )
    parent = dest.parent
    if not parent.exists():
        raise UsageError(f"directory {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{parent} is not a directory")
    if dest.is_dir():
        raise UsageError(f"{dest} is a directory")
    return dest


def atomic_write_text(
    path: Path,
    text: str,
    *,
    root: Path | None = None,
    encoding: str = "utf-8",
    newline: str | None = None,
    mode: int | None = None,
) -> Path:
    """Replace ``path`` with ``text`` atomically; returns the file actually written.

    ``newline`` works as in ``open()``: None writes ``os.linesep`` for each "\\n", "" or
    "\\n" writes the text as is, "\\r\\n" translates. Permissions: ``mode`` when given,
    else the existing file's, else 0644 (not umask-derived: the result is predictable).
    The new file belongs to the current user, as any rewrite does.
    """
    dest = resolve_target(path, root=root)
    eol = os.linesep if newline is None else newline
    if eol not in {"", "\n"}:
        text = text.replace("\n", eol)
    try:
        data = text.encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise UsageError(f"{dest}: cannot encode as {encoding}: {exc}") from None
    if mode is None:
        try:
            mode = stat.S_IMODE(dest.stat().st_mode)
        except FileNotFoundError:
            mode = NEW_FILE_MODE
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        tmp = None
    except OSError as exc:
        raise UsageError(f"{dest}: cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    fsync_dir(dest.parent)
    return dest


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new name in ``directory`` durable; best effort (not every
    filesystem allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
