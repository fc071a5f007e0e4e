"""Safe file writes for the files steward rewrites in a user's repository.

``atomic_write_text`` writes a temporary file beside the target, fsyncs it and renames it over
the target, so a crash, a full disk or a bad encoding leaves either the old file or the new
one, never half of each; the old file's permission bits are kept. Which file that is, and
whether it may be replaced at all, is `steward.workspace.write_target`'s to say (a symlink is
written through only inside ``root``; a device, a FIFO or a socket is never replaced). Every
refusal is a one-line ``UsageError``. Reads are `steward.workspace.read_text`'s.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from steward.errors import UsageError
from steward.workspace import write_target

NEW_FILE_MODE = 0o644


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
    dest = write_target(path, root=root)
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
