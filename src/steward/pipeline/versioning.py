"""The version engine as the pipeline uses it (release intelligence owns the engine)."""

from __future__ import annotations

from pathlib import Path

from packaging.version import Version

from steward.config.release import VersionConfig
from steward.errors import UsageError
from steward.release.tags import normalize as _normalize
from steward.release.version_file import write_version


def normalize(text: str) -> Version:
    """``text`` as a PEP 440 version; a leading ``v`` (as in a tag) is accepted."""
    try:
        return _normalize(text.strip().removeprefix("v"))
    except UsageError:
        raise UsageError(f"{text!r} is not a PEP 440 version (e.g. 1.2.0, 1.3.0a1)") from None


def bump(root: Path, version: str, cfg: VersionConfig) -> Path:
    """Write ``version`` where the project in ``root`` keeps it; return that file."""
    return write_version(root, version, cfg)
