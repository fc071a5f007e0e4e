"""Each repository's `.github/steward.yml`, read through the API and cached.

The App reads a repository's config from its default branch (``GET
/repos/{owner}/{repo}/contents/{path}``, ``.github/steward.yml`` then ``.yaml``), keeps the
text in a `ConfigCacheStore` (the server's database table, so every worker shares it; an
in-memory one for tests) and reuses it until a push to the default branch touches one of
those files (`push_touches_config`, `RepoConfigs.on_push`). A repository without a config
file gets the playbook's defaults, and that answer is cached too (sha ``""``). The parsed
model is kept in memory per (installation, repository, blob sha), so a hot repository is
parsed once per process, not once per event.

A config that does not validate raises `ConfigError` naming ``owner/repo:path``, the line and
the key, every time it is asked for, until a push fixes it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from steward.config.loader import DEFAULT_LOCATIONS, MAX_CONFIG_BYTES, parse_config
from steward.domain.names import check_full_name
from steward.errors import ConfigError, PayloadError
from steward.github.client import GitHubClient
from steward.github.records import RepoContent
from steward.github.repo_api import RepoApi

if TYPE_CHECKING:
    from steward.config.model import StewardConfig

log = logging.getLogger(__name__)

NO_FILE = ""  # the cached sha of "this repository has no config file"
MAX_COMMITS = 2048  # a push payload lists at most this many commits; more may be missing
PARSED_CACHE = 256


class ConfigCacheStore(Protocol):
    """Config texts per (installation, repository): (blob sha, text), sha ``""`` for none."""

    def get(self, installation_id: int, full_name: str) -> tuple[str, str] | None: ...

    def put(self, installation_id: int, full_name: str, sha: str, text: str) -> None: ...

    def invalidate(self, installation_id: int, full_name: str) -> None: ...


class MemoryConfigCache:
    """A thread-safe in-memory `ConfigCacheStore`."""

    def __init__(self) -> None:
        self._items: dict[tuple[int, str], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def get(self, installation_id: int, full_name: str) -> tuple[str, str] | None:
        with self._lock:
            return self._items.get((installation_id, full_name.casefold()))

    def put(self, installation_id: int, full_name: str, sha: str, text: str) -> None:
        with self._lock:
            self._items[(installation_id, full_name.casefold())] = (sha, text)

    def invalidate(self, installation_id: int, full_name: str) -> None:
        with self._lock:
            self._items.pop((installation_id, full_name.casefold()), None)


# -- pure decisions -----------------------------------------------------------------------


def file_from_contents(entry: RepoContent, where: str) -> tuple[str, str]:
    """(blob sha, text) of what the contents API says of a config path; a directory, a
    symlink, a file over the config's size cap or text that is not UTF-8 is a `ConfigError`
    naming ``where``."""
    if entry.kind is None:
        raise ConfigError("is a directory, not a config file", path=where)
    if entry.kind != "file":
        raise ConfigError(f"is a {entry.kind or 'non-file'}, not a config file", path=where)
    if entry.sha is None:
        raise PayloadError(f"{where}: the contents answer has no sha")
    if entry.size is not None and entry.size > MAX_CONFIG_BYTES:
        raise ConfigError(f"config is over {MAX_CONFIG_BYTES} bytes", path=where)
    if entry.content is None:
        raise PayloadError(f"{where}: the contents answer has no base64 content")
    raw = entry.decoded()
    if raw is None:
        raise PayloadError(f"{where}: the contents answer is not valid base64")
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config is over {MAX_CONFIG_BYTES} bytes", path=where)
    try:
        return entry.sha, raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("config is not UTF-8 text", path=where) from None


def push_touches_config(payload: Mapping[str, Any]) -> bool:
    """Whether a ``push`` may have changed the config the App reads: a push to the default
    branch whose commits add, change or remove a config file, or whose commits cannot all
    be seen (forced, or the payload's list is full)."""
    repo = payload.get("repository")
    default = repo.get("default_branch") if isinstance(repo, dict) else None
    if not isinstance(default, str) or payload.get("ref") != f"refs/heads/{default}":
        return False
    commits = payload.get("commits")
    if payload.get("forced") is True or not isinstance(commits, list):
        return True
    if len(commits) >= MAX_COMMITS:
        return True
    wanted = set(DEFAULT_LOCATIONS)
    for commit in commits:
        if not isinstance(commit, dict):
            return True
        for key in ("added", "modified", "removed"):
            files = commit.get(key)
            if isinstance(files, list) and wanted.intersection(
                f for f in files if isinstance(f, str)
            ):
                return True
    return False


# -- the shell ----------------------------------------------------------------------------


class RepoConfigs:
    """``config_for(installation_id, full_name)`` for the workers.

    ``github_for(installation_id)`` gives the installation's client (owned by the caller:
    `GitHubApp.github_for`); ``store`` keeps the texts across workers.
    """

    def __init__(self, github_for: Callable[[int], GitHubClient], store: ConfigCacheStore) -> None:
        self._github_for = github_for
        self.store = store
        self._parsed: OrderedDict[tuple[int, str, str], StewardConfig] = OrderedDict()
        self._lock = threading.Lock()
        self.fetches = 0  # configs read from GitHub (for tests and logs)

    def config_for(self, installation_id: int, full_name: str) -> StewardConfig:
        check_full_name(full_name)
        cached = self.store.get(installation_id, full_name)
        if cached is None:
            cached = self._fetch(installation_id, full_name)
            self.store.put(installation_id, full_name, *cached)
        sha, text = cached
        memo = (installation_id, full_name.casefold(), sha)
        with self._lock:
            found = self._parsed.get(memo)
            if found is not None:
                self._parsed.move_to_end(memo)
                return found
        config = parse_config(text, source=f"{full_name}:{DEFAULT_LOCATIONS[0]}")
        with self._lock:
            self._parsed[memo] = config
            while len(self._parsed) > PARSED_CACHE:
                self._parsed.popitem(last=False)
        return config

    def invalidate(self, installation_id: int, full_name: str) -> None:
        self.store.invalidate(installation_id, full_name)

    def on_push(self, installation_id: int, payload: Mapping[str, Any]) -> bool:
        """Forget the repository's config when this push touched it; ``True`` if it did."""
        if not push_touches_config(payload):
            return False
        repo = payload.get("repository")
        full_name = repo.get("full_name") if isinstance(repo, dict) else None
        if not isinstance(full_name, str):
            return False
        self.invalidate(installation_id, full_name)
        log.info("%s: config cache invalidated by a push to the default branch", full_name)
        return True

    def _fetch(self, installation_id: int, full_name: str) -> tuple[str, str]:
        self.fetches += 1
        api = RepoApi(self._github_for(installation_id), full_name)
        for location in DEFAULT_LOCATIONS:
            entry = api.contents(location)
            if entry is not None:
                return file_from_contents(entry, f"{full_name}:{location}")
        return NO_FILE, ""
