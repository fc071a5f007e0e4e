"""The warm path: released sections do not change, so a run after a full one renders only
what is new.

A cache entry lives in the repository's own git directory (`.git/steward/`, mode 0600) and
holds, for one scope (the repository or a package): the line of releases found at the last
HEAD, and the rendered text of every released section, per output form (a template, or
JSON). It is used only when everything it depends on is unchanged: steward's version, the
scope's config, the template's source, the repository URL (the key), every tag's name and
object id (a moved, added or deleted tag invalidates it), and the releases shown. Then a
run reads only the commits since the last release (and since the cached HEAD, for the
line), renders the Unreleased section, and appends the cached text. Anything unexpected in
the file (damaged, another version, another key) is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward import __version__
from steward.errors import StewardError
from steward.fsutil import atomic_write_text
from steward.history.git import git_dir
from steward.history.lines import LineState
from steward.history.records import Tag
from steward.workspace import Workspace

FORMAT = 2  # 2: the line keeps why each release tag is off it


def cache_key(*parts: Any) -> str:
    """A digest of everything a cached render depends on besides the history."""
    blob = json.dumps([FORMAT, __version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def tags_signature(tags: list[Tag]) -> str:
    return hashlib.sha256(
        "\n".join(sorted(f"{t.name}\0{t.oid}" for t in tags)).encode()
    ).hexdigest()


@dataclass(slots=True)
class Entry:
    key: str
    tags: str
    state: LineState
    shown: list[tuple[str, str]]
    tails: dict[str, str] = field(default_factory=dict)  # output form -> its file's digest
    nonconforming: list[tuple[str, str]] = field(default_factory=list)
    nonconforming_released: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "key": self.key,
            "tags": self.tags,
            "head": self.state.head,
            "on_line": sorted(self.state.on_line),
            "bumps": self.state.bumps,
            "off_line": self.state.off_line,
            "shown": [list(s) for s in self.shown],
            "tails": self.tails,
            "nonconforming": [list(n) for n in self.nonconforming],
            "nonconforming_released": self.nonconforming_released,
        }

    @classmethod
    def from_json(cls, data: Any) -> Entry | None:
        try:
            if data["format"] != FORMAT:
                return None
            state = LineState(
                str(data["head"]),
                {str(n) for n in data["on_line"]},
                {str(k): str(v) for k, v in data["bumps"].items()},
                {str(k): str(v) for k, v in data["off_line"].items()},
            )
            return cls(
                key=str(data["key"]),
                tags=str(data["tags"]),
                state=state,
                shown=[(str(a), str(b)) for a, b in data["shown"]],
                tails={str(k): str(v) for k, v in data["tails"].items()},
                nonconforming=[(str(a), str(b)) for a, b in data["nonconforming"]],
                nonconforming_released=int(data["nonconforming_released"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


_DIGEST = re.compile(r"[0-9a-f]{64}")


class ChangelogCache:
    """One scope's entry in `.git/steward/`: a small index (JSON) and, per output form, the
    released text as a file named by its digest (read whole, written once)."""

    def __init__(self, repo: Path, scope: str | None, git_directory: Path | None = None) -> None:
        self.repo = repo
        self.name = f"changelog-{scope}" if scope else "changelog"
        self._git_dir = git_directory

    def _dir(self) -> Path:
        if self._git_dir is None:
            self._git_dir = git_dir(self.repo)
        return Workspace(self.repo).cache_dir(self._git_dir)  # .git/steward, a real directory

    def load(self, key: str, tags: str) -> Entry | None:
        """The entry when it was made with ``key`` and the same tags; else ``None``."""
        try:
            data = json.loads((self._dir() / f"{self.name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError, StewardError):
            return None
        entry = Entry.from_json(data)
        if entry is None or entry.key != key or entry.tags != tags:
            return None
        return entry

    def tail(self, entry: Entry, form: str) -> str | None:
        """The released text of ``form``, checked against the digest that names its file
        (a missing or altered file is a miss)."""
        digest = entry.tails.get(form)
        if digest is None or not _DIGEST.fullmatch(digest):
            return None
        try:
            raw = (self._dir() / f"{self.name}.{digest}").read_bytes()
        except OSError:
            return None
        if hashlib.sha256(raw).hexdigest() != digest:
            return None
        return raw.decode("utf-8")

    def save(self, entry: Entry, form: str | None = None, tail: str | None = None) -> None:
        """Store ``entry`` (and ``form``'s released text); files no entry names are removed.
        Best effort: a cache that cannot be written costs the next run time, nothing else."""
        try:
            folder = self._dir()
            folder.mkdir(mode=0o700, exist_ok=True)
            if form is not None and tail is not None:
                digest = _digest(tail)
                path = folder / f"{self.name}.{digest}"
                if not path.exists():
                    atomic_write_text(path, tail, mode=0o600)
                entry.tails[form] = digest
            atomic_write_text(folder / f"{self.name}.json", json.dumps(entry.to_json()), mode=0o600)
            keep = {f"{self.name}.{d}" for d in entry.tails.values()}
            for old in folder.glob(f"{self.name}.*"):
                if _DIGEST.fullmatch(old.suffix[1:]) and old.name not in keep:
                    old.unlink(missing_ok=True)
        except (OSError, StewardError):
            return


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
