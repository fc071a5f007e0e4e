"""Options and helpers shared by several commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from steward.config.loader import find_config, load_config
from steward.config.model import StewardConfig
from steward.errors import UsageError

if TYPE_CHECKING:
    from steward.forge.client import GitHubClient


def resolve_config(config_file: Path | None, root: Path | None = None) -> StewardConfig:
    """An explicit file, else the repository's `.github/steward.yml`, else the defaults."""
    if config_file is not None:
        return load_config(config_file)
    return load_config(find_config(root or Path()))


def github_client(token: str | None = None) -> GitHubClient:
    """A client from GITHUB_TOKEN/GITHUB_API_URL. httpx is imported here, not at module load,
    so offline commands (version, changelog) start without it."""
    from steward.forge.client import DEFAULT_API_URL, GitHubClient

    token = token or os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise UsageError(
            "no GitHub token: set GITHUB_TOKEN (or pass --dry-run to only print the plan)"
        )
    return GitHubClient(token, os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)


def repo_name(explicit: str | None) -> str:
    name = explicit or os.environ.get("GITHUB_REPOSITORY")
    if not name:
        raise UsageError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    if name.count("/") != 1 or not all(name.split("/")):
        raise UsageError(f"repository must be OWNER/NAME, got {name!r}")
    return name
