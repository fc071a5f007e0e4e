"""Where a project keeps its version: `[project].version`, `[tool.poetry].version`, or a
configured file with `__version__ = "..."`. Writes keep formatting and comments (tomlkit),
the file's line endings (CRLF stays CRLF: nothing is translated) and a UTF-8 BOM, replace
the file atomically with its permissions (`steward.fsutil`), and touch nothing when the
version is already the one asked for.

The file is a config path (`version.pyproject`, `version.version_file`, a package's
`version_file`): inside the repository, a regular file, read up to `Limit.PROJECT`
(`steward.workspace`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from steward.errors import ConfigError
from steward.fsutil import atomic_write_text
from steward.release.config import VersionConfig
from steward.workspace import Limit, Workspace, read_text

_DUNDER = re.compile(
    r"""^(?P<pre>__version__\s*(?::\s*str\s*)?=\s*)(?P<q>["'])(?P<v>[^"'\n]*)(?P=q)""", re.MULTILINE
)


_BOM = "\ufeff"


def _read_raw(path: Path) -> str:
    """The file's text as stored: no newline translation, BOM included."""
    return read_text(
        path, Limit.PROJECT, "version file", error=ConfigError, missing="version file not found"
    )


def _read_text(path: Path) -> str:
    """The text without its BOM (which tomlkit and the `__version__` search would trip on)."""
    text = _read_raw(path)
    return text[1:] if text.startswith(_BOM) else text


def _parse(text: str, path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None


def _toml(path: Path) -> tomlkit.TOMLDocument:
    return _parse(_read_text(path), path)


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


def version_setting(cfg: VersionConfig) -> str:
    """The setting naming the file, for errors (a package's is named by the caller)."""
    return "version.version_file" if cfg.version_file else "version.pyproject"


def version_path(
    root: Path, cfg: VersionConfig, ws: Workspace | None = None, setting: str | None = None
) -> Path:
    """The file that declares the version, once `steward.workspace` has checked it (inside
    the repository, a regular file if it exists); ``setting`` names it in errors, ``ws``
    knows the config's lines."""
    ws = ws or Workspace(root)
    value = cfg.version_file or cfg.pyproject
    return ws.config_path(value, setting or version_setting(cfg), must_exist=False)


def read_version(
    root: Path, cfg: VersionConfig, ws: Workspace | None = None, setting: str | None = None
) -> str:
    """The version string the project declares (as written, not normalised)."""
    path = version_path(root, cfg, ws, setting)
    if cfg.version_file:
        m = _DUNDER.search(_read_text(path))
        if m is None:
            raise ConfigError('no `__version__ = "..."` line', path=str(path))
        return m.group("v")
    table, _ = _table(_toml(path), path)
    return str(table["version"])


def write_version(
    root: Path,
    version: str,
    cfg: VersionConfig,
    ws: Workspace | None = None,
    setting: str | None = None,
) -> Path:
    """Set the declared version to ``version``; returns the file. Idempotent: when the
    version is already ``version`` the file is not rewritten."""
    path = version_path(root, cfg, ws, setting)
    raw = _read_raw(path)
    bom = _BOM if raw.startswith(_BOM) else ""
    text = raw[len(bom) :]
    if cfg.version_file:
        m = _DUNDER.search(text)
        if m is None:
            raise ConfigError('no `__version__ = "..."` line', path=str(path))
        new = text[: m.start("v")] + version + text[m.end("v") :]
    else:
        doc = _parse(text, path)
        table, _ = _table(doc, path)
        if str(table["version"]) == version:
            return path
        table["version"] = version
        new = tomlkit.dumps(doc)  # tomlkit keeps each line's own ending
    if new != text:
        atomic_write_text(path, bom + new, root=root, newline="")
    return path
