"""The version engine as the pipeline uses it: normalise the asked version, bump the tree.

The engine proper lives in `steward.release.version` / `steward.release.version_file`
(release intelligence). It is looked up at call time; when it is not installed this module
falls back to a minimal PEP 440 parse and a `[project].version` rewrite with tomlkit.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import tomlkit
from packaging.version import InvalidVersion, Version

from steward.errors import ReleaseError, UsageError


def _engine(module: str, attr: str) -> Any:
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def normalize(text: str) -> Version:
    """``text`` as a PEP 440 version (``v1.2`` and ``1.2.0`` both accepted)."""
    engine = _engine("steward.release.version", "normalize")
    if engine is not None:
        result = engine(text)
        assert isinstance(result, Version)
        return result
    try:
        return Version(text.strip().removeprefix("v"))
    except InvalidVersion:
        raise UsageError(f"{text!r} is not a PEP 440 version (e.g. 1.2.0, 1.3.0a1)") from None


def bump(root: Path, version: str, version_cfg: Any) -> Path:
    """Write ``version`` where the project in ``root`` keeps it; return that file."""
    engine = _engine("steward.release.version_file", "write_version")
    if engine is not None:
        return Path(engine(root, version, version_cfg))
    return _fallback_write(root, version)


def _fallback_write(root: Path, version: str) -> Path:
    path = root / "pyproject.toml"
    if not path.is_file():
        raise ReleaseError(f"no pyproject.toml in {root} to write the version into")
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    project = doc.get("project")
    if project is None or "version" not in project:
        raise ReleaseError(f"{path}: no [project].version to bump")
    if project["version"] != version:
        project["version"] = version
        path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path
