"""Deterministic tar archives: the same tree always gives the same bytes, hence the same hash.

Why not `tar *` (the playbook's): the shell glob drops dotfiles such as `.github/`, and tar
records the builder's mtimes, owners and umask. Here names are sorted, every mtime is the
release's SOURCE_DATE_EPOCH, owner and group are 0 with empty names, modes are 0644 (0755
when any execute bit is set, and for directories) and the format is fixed (PAX), with no
compression (gzip would add its own timestamp). VCS data (`.git`) is never archived.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
from pathlib import Path

from steward.errors import ReleaseError, TamperedArtifactError

EXCLUDED = frozenset({".git", ".hg", ".svn"})
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _walk(root: Path, exclude: frozenset[str]) -> list[Path]:
    """Every file, symlink and directory below ``root`` (relative), sorted by POSIX name."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in exclude]
        base = Path(dirpath).relative_to(root)
        found.extend(base / d for d in dirnames)
        found.extend(base / f for f in filenames if f not in exclude)
    return sorted(found, key=lambda p: p.as_posix())


def create(src: Path, dest: Path, mtime: int, *, exclude: frozenset[str] = EXCLUDED) -> str:
    """Archive ``src`` into ``dest`` deterministically; return the archive's sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in _walk(src, exclude):
            path = src / rel
            st = path.lstat()
            info = tarfile.TarInfo(rel.as_posix())
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if stat.S_ISLNK(st.st_mode):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(path)
                info.mode = 0o777
                tar.addfile(info)
            elif stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif stat.S_ISREG(st.st_mode):
                info.size = st.st_size
                info.mode = 0o755 if st.st_mode & 0o111 else 0o644
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
            # sockets, fifos and devices are not source: left out
    tmp.replace(dest)
    return sha256_file(dest)


def verify(archive: Path, expected: str, stage: str) -> None:
    """Refuse to go on when ``archive`` is missing or its hash is not the recorded one."""
    if not archive.is_file():
        raise TamperedArtifactError(
            f"stage {stage}: sealed archive {archive} is missing (recorded sha256 {expected})"
        )
    actual = sha256_file(archive)
    if actual != expected:
        raise TamperedArtifactError(
            f"stage {stage}: sealed archive {archive.name} was changed: "
            f"recorded sha256 {expected}, found {actual}"
        )


def restore(archive: Path, expected: str, dest: Path, stage: str) -> Path:
    """Verify ``archive`` against ``expected``, then unpack it into a clean ``dest``."""
    verify(archive, expected, stage)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    data = archive.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:  # changed between check and read
        raise TamperedArtifactError(f"stage {stage}: {archive.name} changed while being read")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        try:
            tar.extractall(dest, filter="data")
        except tarfile.FilterError as exc:
            raise ReleaseError(f"stage {stage}: unsafe member in {archive.name}: {exc}") from None
    return dest


def members(archive: Path) -> dict[str, bytes]:
    """Regular files of an archive by name (for artifacts and tests)."""
    out: dict[str, bytes] = {}
    with tarfile.open(archive, "r:") as tar:
        for info in tar.getmembers():
            if info.isfile():
                fh = tar.extractfile(info)
                assert fh is not None
                out[info.name] = fh.read()
    return out
