"""The GitHub App's credential files: written once, never replacing anything.

``steward serve manifest --convert`` (`steward.server.registration`) gets the App's id,
slug, webhook secret and private key from GitHub exactly once; this module checks the
directory before the code is spent (`prepare_dir`, `probe_dir`) and writes the files
after (`save_credentials`): each a new file (`write_new`: a temporary file with its final
mode, 0600 for a secret, fsynced, then hard-linked into place), and a failure says what
was lost and how to get it back, never the secrets themselves.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from steward.errors import StewardError, UsageError

if TYPE_CHECKING:
    from steward.github.app_api import ManifestConversion

# What `manifest --convert` writes into DIR: setting -> file name. The secrets are 0600.
APP_FILES = {
    "app_id": "app-id",
    "app_slug": "app-slug",
    "webhook_secret": "webhook-secret",
    "private_key": "private-key.pem",
}
SECRET_FILES = frozenset({"webhook_secret", "private_key"})
# os.link's errors on a filesystem without hard links (FAT, some network and FUSE mounts)
NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})


def app_files(app: ManifestConversion) -> dict[str, str]:
    """The texts of the App's files (setting -> text), each as its setting reads it."""
    files = {
        "app_id": f"{app.id}\n",
        "app_slug": f"{app.slug}\n",
        "private_key": app.pem if app.pem.endswith("\n") else app.pem + "\n",
    }
    if app.webhook_secret is not None:
        # read as is (_FILE): a newline would change the HMAC
        files["webhook_secret"] = app.webhook_secret
    return files


def prepare_dir(directory: Path, targets: Iterable[Path]) -> bool:
    """What can be checked before the code is spent (it works once): no file to overwrite,
    and ``directory`` made (0700) if absent; whether it was made here."""
    taken = [str(p) for p in targets if p.exists() or p.is_symlink()]
    if taken:
        raise UsageError(f"refusing to overwrite {', '.join(taken)}; choose another --dir")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    if not directory.exists() and not directory.is_symlink() and not directory.parent.is_dir():
        raise UsageError(f"directory {directory.parent} does not exist")
    return make_dir(directory)


def save_credentials(
    targets: dict[str, Path], files: dict[str, str], app: str, html_url: str | None
) -> dict[str, str]:
    """The App's files written (setting -> absolute path); a failure now, after the code
    was spent, says what is lost and how to get it back, never the secrets themselves."""
    written: dict[str, str] = {}
    try:
        for key in ("private_key", "webhook_secret", "app_id", "app_slug"):
            if key in files:
                target = write_new(targets[key], files[key], secret=key in SECRET_FILES)
                written[key] = str(target.resolve())
    except (StewardError, OSError) as exc:
        saved = ", ".join(Path(p).name for p in written.values()) or "none"
        where = html_url or "GitHub > Settings > Developer settings > GitHub Apps"
        raise StewardError(
            f"{exc}; GitHub created {app} and the code is spent, but its credentials were not "
            f"all saved (saved: {saved}): in the App's settings ({where}), generate a new "
            "private key and set a new webhook secret, or delete the App and start again"
        ) from None
    return written


def make_dir(directory: Path) -> bool:
    """``directory`` made (0700) unless it exists; whether it was made here."""
    if directory.is_dir():
        return False
    try:
        directory.mkdir(mode=0o700)
    except FileNotFoundError:
        raise UsageError(f"directory {directory.parent} does not exist") from None
    except FileExistsError:  # a symlink to nothing, or made meanwhile
        raise UsageError(f"{directory}: cannot create: something has that name") from None
    except OSError as exc:
        raise UsageError(f"{directory}: cannot create: {exc.strerror or exc}") from None
    try:
        os.chmod(directory, 0o700)  # whatever the umask
    except OSError as exc:
        with contextlib.suppress(OSError):
            directory.rmdir()  # made here, empty: not left behind
        raise UsageError(f"{directory}: cannot set its mode: {exc.strerror or exc}") from None
    return True


def probe_dir(directory: Path) -> None:
    """A file written in ``directory`` as the App's files will be (`write_new`), then
    removed: a directory that cannot take them is found before the code is spent."""
    probe = directory / f".steward-probe-{secrets.token_hex(8)}"
    try:
        write_new(probe, "probe\n", secret=True)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)


def _mkstemp(directory: Path, prefix: str) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{directory}: cannot write files: {exc.strerror or exc}") from None


def write_new(target: Path, text: str, *, secret: bool) -> Path:
    """``text`` into a new file ``target``, never replacing one (nor following a symlink):
    written to a temporary file with the final mode (0600 for a secret) and fsynced, then
    hard-linked to ``target``, which fails if anything has that name by then. Where the
    filesystem has no hard links, ``target`` is created exclusively (``O_EXCL``) and
    written in place instead."""
    from steward.fsutil import fsync_dir

    data = text.encode()
    mode = 0o600 if secret else 0o644
    fd, tmp = _mkstemp(target.parent, f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in NO_HARD_LINKS:
                raise
            _write_exclusive(target, data, mode)
    except FileExistsError:
        raise UsageError(f"refusing to overwrite {target}") from None
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    fsync_dir(target.parent)
    return target


def _write_exclusive(target: Path, data: bytes, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
