"""What a run looked like: a table of stage timings and a Mermaid Gantt of the real run,
drawn like the playbook's "Release process visualized" (one section per stage).

A run also travels as a **run record** (`RunRecord`, ``steward-run.json`` on the GitHub
release, attached by the post-release stage): what the Gantt needs and nothing else, so a
page can draw the run without the checkout that holds its state::

    {"format": 1, "version": "1.2.0", "recorded_at": 1767225610.5,
     "stages": [{"name": "seal", "title": "Bump version and seal source",
                 "status": "completed", "started": 1767225600.0, "finished": 1767225601.2,
                 "tasks": [{"title": "eu-west-1", "started": ..., "finished": ...}]}, ...]}

Times are epoch seconds; ``recorded_at`` is when the record was made (the stage that attached
it is still ``running`` then). Read back from a release (`RunRecord.from_json`), a record is
untrusted data: its shape is checked, names must be stage names, titles are single lines of at
most 200 characters, lists hold at most 50 items, and times are finite. `gantt_rows` turns a
record into rows with offsets for a server-drawn chart; `run_gantt` gives the Mermaid source
`release run` prints; `read_run_record` reads one from a release through the adapter.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steward import limits
from steward.errors import PayloadError, TamperedArtifactError
from steward.pipeline.state import ReleaseState, Status
from steward.text import single_line

if TYPE_CHECKING:
    from steward.github.records import ReleaseAsset
    from steward.github.repo_api import RepoApi

_MERMAID_STATUS = {"completed": "done", "failed": "crit", "running": "active"}


def timings_table(state: ReleaseState) -> str:
    rows = [("stage", "status", "seconds")]
    total = 0.0
    for rec in state.stages.values():
        secs = rec.seconds
        total += secs or 0.0
        rows.append((rec.name, rec.status, f"{secs:.2f}" if secs is not None else "-"))
    rows.append(("total", "", f"{total:.2f}"))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]:>{width[2]}}".rstrip() for r in rows
    )


def _subtasks(tasks: object, status: str, ident: str) -> list[str]:
    """Bars inside a stage's section for its parts (a region, an architecture), from the
    ``tasks`` list a stage records: ``{"title", "started", "finished"}`` in epoch seconds."""
    if not isinstance(tasks, list):
        return []
    out = []
    for k, task in enumerate(tasks, 1):
        try:
            start = int(float(task["started"]) * 1000)
            end = max(int(float(task["finished"]) * 1000), start + 1)
        except (KeyError, TypeError, ValueError):
            continue
        title = _mermaid_text(str(task.get("title", k)))
        out.append(f"{title} ({(end - start) / 1000:.2f}s) : {status}, {ident}_{k}, {start}, {end}")
    return out


def gantt(state: ReleaseState, titles: dict[str, str] | None = None) -> str:
    """Mermaid source; times are epoch milliseconds (`dateFormat x`), one task per stage and
    one per part a stage timed (regions, architectures)."""
    lines = [
        "```mermaid",
        "gantt",
        f"title Release {state.version}",
        "dateFormat x",
        "axisFormat %H:%M:%S",
    ]
    for rec in state.stages.values():
        if rec.started is None or rec.finished is None:
            continue
        start = int(rec.started * 1000)
        end = max(int(rec.finished * 1000), start + 1)
        status = _MERMAID_STATUS.get(rec.status, "active")
        title = _mermaid_text((titles or {}).get(rec.name, rec.name))
        ident = rec.name.replace("-", "_")
        lines.append(f"section {rec.name}")
        lines.append(f"{title} ({(end - start) / 1000:.2f}s) : {status}, {ident}, {start}, {end}")
        lines.extend(_subtasks(rec.details.get("tasks"), status, ident))
    lines.append("```")
    return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    """A title as Mermaid reads it: one line, without the ``:``, ``#`` and ``;`` that its
    Gantt syntax gives a meaning."""
    for c in ":#;\r\n":
        text = text.replace(c, " ")
    return text.strip()


# -- the run record ---------------------------------------------------------------------------

RUN_RECORD = "steward-run.json"
"""The release asset that carries a run's record (`release_assets.attach_run_record`)."""
MAX_RUN_RECORD = 1_000_000  # a record is a few kilobytes: 50 stages of 50 tasks fit
RUN_FORMAT = 1
MAX_ITEMS = 50
"""At most this many stages in a record, and tasks in a stage."""
MAX_TITLE = 200
STATUSES: tuple[Status, ...] = ("pending", "running", "completed", "failed", "skipped")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+!_-]{0,63}")
_LAST_TIME = 1e11  # epoch seconds past the year 5000 are no time a run took place


@dataclass(frozen=True, slots=True)
class RunTask:
    """A part a stage timed (a region, an architecture)."""

    title: str
    started: float
    finished: float


@dataclass(frozen=True, slots=True)
class RunStage:
    name: str
    title: str
    status: Status
    started: float | None = None
    finished: float | None = None
    tasks: tuple[RunTask, ...] = ()


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One release run, as ``steward-run.json`` carries it (the module docstring)."""

    version: str
    stages: tuple[RunStage, ...]
    recorded_at: float | None = None

    @classmethod
    def from_state(
        cls,
        state: ReleaseState,
        titles: dict[str, str] | None = None,
        recorded_at: float | None = None,
    ) -> RunRecord:
        """The record of ``state`` (``titles``: each stage's, else its name)."""
        stages = []
        for rec in list(state.stages.values())[:MAX_ITEMS]:
            tasks = rec.details.get("tasks")
            stages.append(
                RunStage(
                    name=rec.name,
                    title=_title((titles or {}).get(rec.name, rec.name)),
                    status=rec.status,
                    started=rec.started,
                    finished=rec.finished,
                    tasks=tuple(_tasks(tasks if isinstance(tasks, list) else [], strict=False)),
                )
            )
        return cls(state.version, tuple(stages), recorded_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "version": self.version,
            "recorded_at": self.recorded_at,
            "stages": [
                {
                    "name": s.name,
                    "title": s.title,
                    "status": s.status,
                    "started": s.started,
                    "finished": s.finished,
                    "tasks": [
                        {"title": t.title, "started": t.started, "finished": t.finished}
                        for t in s.tasks
                    ],
                }
                for s in self.stages
            ],
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "run record") -> RunRecord:
        """A record read from outside (a release asset, a database): its shape checked, its
        text bounded (the module docstring); anything else is a `PayloadError` naming
        ``where``."""
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            raise PayloadError(f"{where}: not a steward run record of format {RUN_FORMAT}")
        version = data.get("version")
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise PayloadError(f"{where}: version is not a version")
        stages = data.get("stages")
        if not isinstance(stages, list) or len(stages) > MAX_ITEMS:
            raise PayloadError(f"{where}: stages is not a list of at most {MAX_ITEMS}")
        out = []
        seen: set[str] = set()
        for i, item in enumerate(stages):
            at = f"{where}: stage {i}"
            if not isinstance(item, dict):
                raise PayloadError(f"{at} is not an object")
            name, title, status = item.get("name"), item.get("title"), item.get("status")
            if not isinstance(name, str) or not _NAME.fullmatch(name) or name in seen:
                raise PayloadError(f"{at}: name is not a stage name, or is listed twice")
            seen.add(name)
            if status not in STATUSES:
                raise PayloadError(f"{at}: status is not one of {', '.join(STATUSES)}")
            tasks = item.get("tasks", [])
            if not isinstance(tasks, list) or len(tasks) > MAX_ITEMS:
                raise PayloadError(f"{at}: tasks is not a list of at most {MAX_ITEMS}")
            try:
                parts = tuple(_tasks(tasks, strict=True))
            except ValueError as exc:
                raise PayloadError(f"{at}: {exc}") from None
            out.append(
                RunStage(
                    name=name,
                    title=_title(title if isinstance(title, str) else name),
                    status=status,
                    started=_time(item.get("started"), f"{at}: started"),
                    finished=_time(item.get("finished"), f"{at}: finished"),
                    tasks=parts,
                )
            )
        recorded = _time(data.get("recorded_at"), f"{where}: recorded_at")
        return cls(version, tuple(out), recorded)

    def state(self) -> ReleaseState:
        """The record as a `ReleaseState`, for `gantt` and `timings_table`; a stage still
        running when the record was made ends at `recorded_at`."""
        state = ReleaseState(self.version)
        for s in self.stages:
            rec = state.stage(s.name)
            rec.status, rec.started, rec.finished = s.status, s.started, s.finished
            if s.status == "running" and s.finished is None and s.started is not None:
                rec.finished = self.recorded_at
            rec.details["tasks"] = [
                {"title": t.title, "started": t.started, "finished": t.finished} for t in s.tasks
            ]
        return state

    def titles(self) -> dict[str, str]:
        return {s.name: s.title for s in self.stages}


@dataclass(frozen=True, slots=True)
class Part:
    """A bar inside a stage's row: ``start_offset_s`` from the run's start."""

    title: str
    start_offset_s: float
    seconds: float


@dataclass(frozen=True, slots=True)
class Row:
    """One stage of a run for a chart: ``start_offset_s`` from the run's start (the
    earliest stage start) and ``seconds``, both ``None`` for a stage that never ran
    (pending, skipped); a stage running when the record was made lasts until then
    (``None`` seconds when the record does not say when that was)."""

    stage: str
    title: str
    status: Status
    start_offset_s: float | None
    seconds: float | None
    parts: tuple[Part, ...]


def gantt_rows(record: RunRecord) -> list[Row]:
    """One row per stage of ``record``, in the run's order, with times relative to its
    start: what a page draws as a Gantt without Mermaid (pure)."""
    starts = [s.started for s in record.stages if s.started is not None]
    starts += [t.started for s in record.stages for t in s.tasks]
    origin = min(starts) if starts else 0.0
    rows = []
    for s in record.stages:
        end = s.finished
        if end is None and s.status == "running":
            end = record.recorded_at
        offset = None if s.started is None else round(s.started - origin, 3)
        seconds = None if s.started is None or end is None else round(max(0.0, end - s.started), 3)
        parts = tuple(
            Part(t.title, round(t.started - origin, 3), round(max(0.0, t.finished - t.started), 3))
            for t in s.tasks
        )
        rows.append(Row(s.name, s.title, s.status, offset, seconds, parts))
    return rows


def run_gantt(record: RunRecord) -> str:
    """The Mermaid Gantt of ``record``: the chart `release run` printed for that run."""
    return gantt(record.state(), record.titles())


def _title(text: str) -> str:
    """One line of at most `MAX_TITLE` characters, without control or format characters."""
    return single_line(text, MAX_TITLE)


def _time(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{what} is not a time")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number < _LAST_TIME:
        raise PayloadError(f"{what} is not a time")
    return number


def _tasks(items: list[Any], *, strict: bool) -> list[RunTask]:
    """The ``tasks`` a stage recorded; one that is not ``{"title", "started", "finished"}``
    is a ValueError when ``strict``, else left out (as `gantt` leaves it out)."""
    out = []
    for k, task in enumerate(items[:MAX_ITEMS], 1):
        try:
            if not isinstance(task, dict):
                raise ValueError(f"task {k} is not an object")
            started = _time(task.get("started"), f"task {k}: started")
            finished = _time(task.get("finished"), f"task {k}: finished")
            if started is None or finished is None:
                raise ValueError(f"task {k} has no start or end")
        except (ValueError, PayloadError) as exc:
            if strict:
                raise ValueError(str(exc)) from None
            continue
        title = task.get("title")
        out.append(RunTask(_title(title if isinstance(title, str) else str(k)), started, finished))
    return out


# -- from a release -----------------------------------------------------------------------------


def read_run_record(github: RepoApi, asset: ReleaseAsset) -> RunRecord:
    """The run record in ``asset`` (``steward-run.json`` of a release), downloaded through
    the adapter (the storage host it redirects to never sees the token) at most
    `MAX_RUN_RECORD` bytes, checked against GitHub's digest when it reports one, and parsed
    as untrusted data (`RunRecord.from_json`). Anything else is a `PayloadError` (or a
    `TamperedArtifactError` for bytes that are not what the digest says)."""
    where = f"{github.full_name}: asset {asset.name} ({asset.id})"
    if asset.size > MAX_RUN_RECORD:
        raise PayloadError(f"{where} is over the limit of {limits.size_text(MAX_RUN_RECORD)}")
    data = github.download_release_asset(asset, max_bytes=MAX_RUN_RECORD)
    if asset.sha256 is not None and hashlib.sha256(data).hexdigest() != asset.sha256:
        raise TamperedArtifactError(
            f"{where}: the bytes downloaded are not what GitHub's digest says ({asset.digest})"
        )
    return RunRecord.from_json(limits.loads_json(data, where, PayloadError), where)
