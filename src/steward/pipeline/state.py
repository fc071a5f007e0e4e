"""The record of one release: per stage its status, inputs, output hashes and timings.

Kept as JSON in `<repo>/.steward/releases/<version>/state.json`, written atomically after
every change, so a crash or a failed stage leaves an accurate record to resume from. The file
is private to its owner (0600, whatever the umask): it records the release's inputs.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from steward.errors import ReleaseError
from steward.workspace import Limit, read_text

Status = Literal["pending", "running", "completed", "failed", "skipped"]
FORMAT = 1


@dataclass(slots=True)
class StageRecord:
    name: str
    status: Status = "pending"
    started: float | None = None
    finished: float | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


@dataclass(slots=True)
class ReleaseState:
    version: str
    inputs: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, StageRecord] = field(default_factory=dict)

    def stage(self, name: str) -> StageRecord:
        if name not in self.stages:
            self.stages[name] = StageRecord(name)
        return self.stages[name]

    @property
    def finished(self) -> bool:
        return bool(self.stages) and all(
            s.status in {"completed", "skipped"} for s in self.stages.values()
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "inputs": self.inputs,
            "stages": [asdict(s) for s in self.stages.values()],
        }

    @classmethod
    def from_json(cls, data: Any) -> ReleaseState:
        if not isinstance(data, dict):
            raise ReleaseError("release state is not a JSON object")
        if data.get("format") != FORMAT:
            raise ReleaseError(f"release state format {data.get('format')!r} is not {FORMAT}")
        state = cls(str(data["version"]), dict(data.get("inputs") or {}))
        stages = data.get("stages") or []
        if not isinstance(stages, list) or not all(isinstance(i, dict) for i in stages):
            raise ReleaseError("release state: stages is not a list of records")
        for item in stages:
            rec = StageRecord(**item)
            if not isinstance(rec.outputs, dict) or not isinstance(rec.details, dict):
                raise ReleaseError(f"release state: stage {rec.name!r} has damaged records")
            state.stages[str(rec.name)] = rec
        return state


def release_dir(root: Path, state_dir: str, version: str) -> Path:
    return root / state_dir / "releases" / version


def load(path: Path) -> ReleaseState | None:
    """The state recorded in ``path``, None when there is none. steward writes it as a
    regular file: a symlink, a FIFO or a device there is refused, never read."""
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink():
        raise ReleaseError(f"{path}: a symlink; steward records release state in a regular file")
    text = read_text(path, Limit.STATE, "release state", error=ReleaseError)
    try:
        return ReleaseState.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError, RecursionError, ReleaseError) as exc:
        raise ReleaseError(
            f"{path}: unreadable release state ({exc}); move it aside to start the release over"
        ) from None


PRIVATE = 0o600


def save(state: ReleaseState, path: Path) -> None:
    """Write ``state`` atomically (a temporary file renamed over ``path``), mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    data = (json.dumps(state.to_json(), indent=2) + "\n").encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)  # a leftover temporary file keeps its mode otherwise
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def list_releases(root: Path, state_dir: str) -> list[str]:
    base = root / state_dir / "releases"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "state.json").is_file())
