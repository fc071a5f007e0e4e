"""Every setting of the config that names a path, for `steward config check` to check them all
against the checkout the way the commands that use them will (`steward.workspace`): inside
it after symlinks, outside `.git/`, a regular file or a directory as expected.

The text of each (relative, no ``..``) is checked when the file is loaded (`RepoPath`); what
only the filesystem can tell is checked here, and where each path is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steward.workspace import Kind, Workspace

if TYPE_CHECKING:
    from steward.config.pipeline import PipelineConfig
    from steward.config.release import ReleaseView

BUILTIN_TEMPLATES = frozenset(
    {"github", "keepachangelog"}
)  # steward.release.changelog.render.BUILTIN


@dataclass(frozen=True, slots=True)
class PathSetting:
    setting: str  # as the file spells it: changelog.output, packages.0.version_file
    value: str
    kind: Kind = "file"
    must_exist: bool = False


def path_settings(config: ReleaseView) -> list[PathSetting]:
    """The path settings of ``config`` and their values (a package's with its ``{path}`` and
    ``{name}`` filled in, as the commands use them)."""
    out: list[PathSetting] = []
    if config.changelog.template not in BUILTIN_TEMPLATES:
        out.append(PathSetting("changelog.template", config.changelog.template, must_exist=True))
    out.append(PathSetting("changelog.output", config.changelog.output))
    version = config.version
    if version.version_file:
        out.append(PathSetting("version.version_file", version.version_file, must_exist=True))
    else:
        out.append(PathSetting("version.pyproject", version.pyproject))
    for i, p in enumerate(config.packages):
        settings = p.version_settings()
        out.append(
            PathSetting(
                f"packages.{i}.version_file",
                settings["version_file"] or settings["pyproject"] or "",
            )
        )
        out.append(PathSetting(f"packages.{i}.changelog", p.changelog_file()))
    release: PipelineConfig | None = getattr(config, "release", None)
    if release is not None:
        out += _release_settings(release)
    return out


def _release_settings(release: PipelineConfig) -> list[PathSetting]:
    out = [PathSetting("release.state_dir", release.state_dir, kind="dir")]
    if release.signing_key_file:  # may be written by the release job before it runs
        out.append(PathSetting("release.signing_key_file", release.signing_key_file))
    out.append(PathSetting("release.docs.mkdocs_config", release.docs.mkdocs_config))
    if release.docs.layer_arns.file:
        out.append(PathSetting("release.docs.layer_arns.file", release.docs.layer_arns.file))
    sar = release.sar
    if sar is not None:
        out.append(PathSetting("release.sar.template", sar.template))
        for key, value in (("license_file", sar.license_file), ("readme_file", sar.readme_file)):
            if value:
                out.append(PathSetting(f"release.sar.{key}", value))
    return out


def check_paths(config: ReleaseView, root: Path) -> None:
    """Every path setting checked in the checkout ``root``: the first refused one is a
    `ConfigError` naming the setting, file and line (exit 2)."""
    ws = Workspace(root, config.origin)
    for s in path_settings(config):
        ws.config_path(s.value, s.setting, kind=s.kind, must_exist=s.must_exist)
