"""The version engine as the pipeline uses it (release intelligence owns the engine)."""

from __future__ import annotations

from pathlib import Path

from packaging.version import Version

from steward.release.config import VersionConfig
from steward.release.version import normalize as _normalize
from steward.release.version_file import write_version


def normalize(text: str) -> Version:
    """``text`` as a PEP 440 version; a leading ``v`` (as in a tag) is accepted."""
    return _normalize(text.strip().removeprefix("v"))


def bump(root: Path, version: str, cfg: VersionConfig) -> Path:
    """Write ``version`` where the project in ``root`` keeps it; return that file."""
    return write_version(root, version, cfg)
