"""Deterministic zip files for Lambda layers: the same tree always gives the same bytes.

Names are sorted (POSIX, directories included), every entry's time is the release epoch
(zip stores local DOS time with 2-second steps, from 1980: earlier epochs become 1980-01-01),
modes are 0644 for files (0755 when any execute bit is set) and 0755 for directories, the
creating system is Unix, there are no extra fields and every file is deflated at level 9.
The bytes depend on the tree and the epoch only (and on zlib's deflate, which is stable for
a given zlib version). Symlinks, sockets and devices are refused: a layer holds files.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from steward.errors import ReleaseError, TamperedArtifactError

DOS_EPOCH = 315_532_800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry
LEVEL = 9
_FILE = 0o100000
_DIR = 0o040000
_MSDOS_DIR = 0x10


def _entries(src: Path) -> list[tuple[str, Path]]:
    """(archive name, path) of every directory and file below ``src``, sorted by name."""
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(src):
        base = Path(dirpath)
        for name in (*dirnames, *filenames):
            path = base / name
            rel = path.relative_to(src).as_posix()
            found.append((rel + "/" if name in dirnames else rel, path))
    return sorted(found)


def _info(name: str, epoch: int, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.gmtime(max(epoch, DOS_EPOCH))[:6])
    info.create_system = 3  # Unix: external_attr carries the mode
    info.external_attr = mode << 16
    if name.endswith("/"):
        info.external_attr |= _MSDOS_DIR
        info.compress_type = zipfile.ZIP_STORED
    else:
        info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write(
    fileobj: IO[bytes], entries: Iterable[tuple[str, bytes | None, bool]], epoch: int
) -> None:
    with zipfile.ZipFile(fileobj, "w") as zf:
        for name, data, executable in sorted(entries, key=lambda e: e[0]):
            if data is None:
                zf.writestr(_info(name.rstrip("/") + "/", epoch, _DIR | 0o755), b"")
            else:
                mode = _FILE | (0o755 if executable else 0o644)
                zf.writestr(_info(name, epoch, mode), data, compresslevel=LEVEL)


def to_bytes(entries: Iterable[tuple[str, bytes | None, bool]], epoch: int) -> bytes:
    """The zip of ``(name, data or None for a directory, executable)`` entries, in name order."""
    buf = io.BytesIO()
    _write(buf, entries, epoch)
    return buf.getvalue()


def write(entries: Iterable[tuple[str, bytes | None, bool]], dest: Path, epoch: int) -> str:
    """Zip ``(name, data or None for a directory, executable)`` entries in name order into
    ``dest``; return its sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with tmp.open("wb") as fh:
        _write(fh, entries, epoch)
    tmp.replace(dest)
    return sha256_file(dest)


def create(src: Path, dest: Path, epoch: int) -> str:
    """Zip the tree ``src`` (its contents at the zip's root) into ``dest``; return the sha256."""

    def entries() -> Iterable[tuple[str, bytes | None, bool]]:
        for name, path in _entries(src):
            st = path.lstat()
            if stat.S_ISDIR(st.st_mode):
                yield name, None, True
            elif stat.S_ISREG(st.st_mode):
                yield name, path.read_bytes(), bool(st.st_mode & 0o111)
            else:
                raise ReleaseError(f"{path}: a layer holds files and directories only")

    return write(entries(), dest, epoch)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_sealed(path: Path, expected: str, stage: str) -> bytes:
    """The bytes of a sealed zip, refused when missing or when their sha256 is not ``expected``
    (checked on the bytes returned, so what is used is what was checked)."""
    if not path.is_file():
        raise TamperedArtifactError(
            f"stage {stage}: sealed {path.name} is missing (recorded sha256 {expected})"
        )
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise TamperedArtifactError(
            f"stage {stage}: sealed {path.name} was changed: recorded sha256 {expected}, "
            f"found {actual}"
        )
    return data


def unpack(path: Path, expected: str, dest: Path, stage: str) -> Path:
    """Check ``path`` against ``expected``, then extract it into ``dest`` (which must not
    exist). Names that would leave ``dest`` are refused."""
    read_sealed(path, expected, stage)
    dest.mkdir(parents=True)
    root = dest.resolve()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            target = (root / info.filename).resolve()
            if target != root and root not in target.parents:
                raise ReleaseError(f"stage {stage}: unsafe member {info.filename!r} in {path.name}")
        zf.extractall(root)
        for info in zf.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                (root / info.filename).chmod(mode)
    return dest
