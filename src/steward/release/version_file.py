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

import os
import re
from pathlib import Path
from typing import Any

import tomlkit
from packaging.version import InvalidVersion, Version
from tomlkit.exceptions import TOMLKitError

from steward.config.release import VersionConfig
from steward.errors import ConfigError
from steward.fsutil import atomic_write_text
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


def _find_table(doc: Any) -> tuple[Any, str] | None:
    """The table holding ``version`` and its name, or ``None`` when none declares it."""
    project = doc.get("project")
    if project is not None and "version" in project:
        return project, "[project]"
    poetry = doc.get("tool", {}).get("poetry")
    if poetry is not None and "version" in poetry:
        return poetry, "[tool.poetry]"
    return None


def _table(doc: Any, path: Path) -> tuple[Any, str]:
    """The table holding ``version`` and its name; a helpful error when there is none."""
    found = _find_table(doc)
    if found is not None:
        return found
    project = doc.get("project")
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
    return version_in(_read_text(path), str(path), cfg)


def version_in(text: str, where: str, cfg: VersionConfig) -> str:
    """The version string ``text`` (a project file's content, e.g. as a commit holds it)
    declares; a `ConfigError` naming ``where`` when it declares none or is not TOML."""
    text = text[1:] if text.startswith(_BOM) else text
    if cfg.version_file:
        m = _DUNDER.search(text)
        if m is None:
            raise ConfigError('no `__version__ = "..."` line', path=where)
        return m.group("v")
    table, _ = _table(_parse(text, Path(where)), Path(where))
    return str(table["version"])


def declared_version(
    root: Path, cfg: VersionConfig, ws: Workspace | None = None, setting: str | None = None
) -> str | None:
    """The version the project declares, where steward needs it (no release tag yet):
    ``None`` only when there is none to read, no pyproject.toml or one that declares no
    version (a tooling-only file, a dynamic version). A file that is there but is not what
    it must be (unreadable, not a regular file, not UTF-8, invalid TOML, a version that is
    not PEP 440; a configured ``__version__`` file missing or without its line) is a
    `ConfigError` naming it, exit 2: never the configured initial version in its place."""
    path = version_path(root, cfg, ws, setting)
    if cfg.version_file:
        value = read_version(root, cfg, ws, setting)
    else:
        if not os.path.lexists(path):
            return None
        found = _find_table(_toml(path))
        if found is None:
            return None
        value = str(found[0]["version"])
    try:
        Version(value)
    except InvalidVersion:
        raise ConfigError(
            f"{value!r} is not a PEP 440 version (e.g. 1.2.0)", path=str(path)
        ) from None
    return value


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
