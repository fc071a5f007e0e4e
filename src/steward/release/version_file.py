"""Where a project keeps its version: `[project].version`, `[tool.poetry].version`, or a
configured file with `__version__ = "..."`. Writes keep formatting and comments (tomlkit) and
touch nothing when the version is already the one asked for.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from steward.errors import ConfigError
from steward.release.config import VersionConfig

_DUNDER = re.compile(
    r"""^(?P<pre>__version__\s*(?::\s*str\s*)?=\s*)(?P<q>["'])(?P<v>[^"'\n]*)(?P=q)""", re.MULTILINE
)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("version file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=str(path)) from None


def _toml(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(_read_text(path))
    except TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None


def _table(doc: Any, path: Path) -> tuple[Any, str]:
    """The table holding ``version`` and its name; a helpful error when there is none."""
    project = doc.get("project")
    if project is not None and "version" in project:
        return project, "[project]"
    poetry = doc.get("tool", {}).get("poetry")
    if poetry is not None and "version" in poetry:
        return poetry, "[tool.poetry]"
    hint = ""
    if project is not None and "version" in project.get("dynamic", []):
        hint = " ([project] declares it dynamic: set version.version_file in the config)"
    raise ConfigError(f"no [project].version or [tool.poetry].version{hint}", path=str(path))


def version_path(root: Path, cfg: VersionConfig) -> Path:
    return root / (cfg.version_file or cfg.pyproject)


def read_version(root: Path, cfg: VersionConfig) -> str:
    """The version string the project declares (as written, not normalised)."""
    path = version_path(root, cfg)
    if cfg.version_file:
        m = _DUNDER.search(_read_text(path))
        if m is None:
            raise ConfigError('no `__version__ = "..."` line', path=str(path))
        return m.group("v")
    table, _ = _table(_toml(path), path)
    return str(table["version"])


def write_version(root: Path, version: str, cfg: VersionConfig) -> Path:
    """Set the declared version to ``version``; returns the file. Idempotent: when the
    version is already ``version`` the file is not rewritten."""
    path = version_path(root, cfg)
    if cfg.version_file:
        text = _read_text(path)
        m = _DUNDER.search(text)
        if m is None:
            raise ConfigError('no `__version__ = "..."` line', path=str(path))
        new = text[: m.start("v")] + version + text[m.end("v") :]
    else:
        text = _read_text(path)
        doc = _toml(path)
        table, _ = _table(doc, path)
        if str(table["version"]) == version:
            return path
        table["version"] = version
        new = tomlkit.dumps(doc)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return path
