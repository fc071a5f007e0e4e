"""The surveys store: what the maintainers' page shows of each installation's repositories.

The page never calls GitHub: a scheduled job (`server.survey`, every
``survey_interval_seconds``) reads each repository and saves what it found here, and the
page reads it back. The read side is one call::

    for inst in Surveys(engine).latest():      # InstallationSurvey, by installation id
        inst.installation_id, inst.taken_at      # when its last survey finished (UTC)
        inst.left_out                            # int: repositories it did not survey
        inst.budget                              # ApiBudget | None
        inst.budget.saved_percent                # int | None: "N% of reads saved by the ETag cache"
        inst.budget.remaining, .limit, .reset_at # GitHub's rate limit, as last reported
        for repo in inst.repositories:           # RepositorySurvey, by full name
            repo.error                           # str | None: why it could not be surveyed
            repo.pending_release.items           # PendingIssue(number, title, url, state)
            repo.blocked.items                   # BlockedPull(number, title, url, labels)
            repo.sweep.items                     # SweepItem(number, title, url, actions)
            repo.releases                        # ReleaseRun(tag, name, published_at, url,
                                                 #   prerelease, run: RunRecord | None, ...)

A `Listing` holds at most `MAX_ITEMS` (50) items and ``total``, how many there were, so a page
can say "50 of 73". Every text came from GitHub and is untrusted data: titles are single lines
of at most 200 characters, labels of at most 100, and a ``url`` is an ``https://`` (or
``http://``) address or empty, never ``javascript:``; a page still escapes all of it. A run
record (`pipeline.report.RunRecord`) is drawn with `pipeline.report.gantt_rows` (rows with
offsets) or `pipeline.report.run_gantt` (the Mermaid source `release run` prints).

`SweepItem.actions` are words: ``stale`` (labelled stale, with a comment), ``close`` (closed,
with a comment), ``remind`` (the revisit reminder), ``label:NAME``, ``unlabel:NAME`` and
``comment``; `SweepItem.summary` says them in English.

Writing (`Surveys.save`) replaces an installation's rows in one transaction: its
repositories' bodies (JSON, keys sorted, so a survey that found nothing new writes the same
text), the rows of repositories it no longer has removed, and its budget row. The tables
are ``surveys`` and ``survey_budgets`` (migration 0004). A survey covers a bounded number of
an installation's repositories (`server.survey.MAX_REPOSITORIES`); how many it left out is
kept in each of its bodies as ``left_out`` (written only when some were: a body without it,
as every body stored before the bound, reads as none left out) and read back as
`InstallationSurvey.left_out`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from steward.errors import PayloadError
from steward.pipeline.report import RunRecord
from steward.server.db import aware, is_sqlite, survey_budgets, surveys
from steward.text import single_line

log = logging.getLogger(__name__)

FORMAT = 1
MAX_ITEMS = 50
MAX_TITLE = 200
MAX_LABEL = 100
MAX_URL = 500
MAX_ERROR = 500
LEFT_OUT = "left_out"
"""The body's key for how many of the installation's repositories its survey left out."""
T = TypeVar("T")


def title_text(text: object, limit: int = MAX_TITLE) -> str:
    """Untrusted text as one line of at most ``limit`` characters (`text.single_line`)."""
    return single_line(text, limit)


def safe_url(url: object) -> str:
    """``url`` when it is an http(s) address of at most 500 characters, else ``""``."""
    if not isinstance(url, str) or len(url) > MAX_URL or any(c.isspace() for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in {"https", "http"} and parts.netloc else ""


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """At most `MAX_ITEMS` items, and how many there were in all."""

    items: tuple[T, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        """How many were left out."""
        return max(0, self.total - len(self.items))

    @classmethod
    def of(cls, items: Iterable[T]) -> Listing[T]:
        every = list(items)
        return cls(tuple(every[:MAX_ITEMS]), len(every))


@dataclass(frozen=True, slots=True)
class PendingIssue:
    """An issue labelled pending-release (open, or closed and not yet told of a release)."""

    number: int
    title: str
    url: str
    state: str  # "open" | "closed"


@dataclass(frozen=True, slots=True)
class BlockedPull:
    """An open pull request carrying a blocking label."""

    number: int
    title: str
    url: str
    labels: tuple[str, ...]
    """Which of the blocking labels it carries."""


SWEEP_WORDS = {"stale": "mark stale", "close": "close", "remind": "remind", "comment": "comment"}


@dataclass(frozen=True, slots=True)
class SweepItem:
    """An open issue or pull request the next sweep will act on, and how."""

    number: int
    title: str
    url: str
    actions: tuple[str, ...]

    @property
    def summary(self) -> str:
        """The actions in words: "mark stale", "close", "add label X", ..."""
        words = []
        for action in self.actions:
            kind, _, label = action.partition(":")
            if kind == "label":
                words.append(f"add label {label}")
            elif kind == "unlabel":
                words.append(f"remove label {label}")
            else:
                words.append(SWEEP_WORDS.get(kind, kind))
        return ", ".join(words)


@dataclass(frozen=True, slots=True)
class RunAsset:
    """The ``steward-run.json`` asset a run record was read from (a later survey reads it
    again only when the asset changed)."""

    id: int
    size: int
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class ReleaseRun:
    """One of the last GitHub releases, with the pipeline run that made it when the
    release carries its record."""

    tag: str
    name: str
    published_at: str | None
    url: str
    prerelease: bool
    run: RunRecord | None = None
    run_error: str | None = None
    """Why a run record on the release could not be read (too large, not a record)."""
    run_asset: RunAsset | None = None


@dataclass(frozen=True, slots=True)
class RepositorySurvey:
    """What one repository looked like at its installation's last survey."""

    repository: str
    taken_at: datetime | None = None
    error: str | None = None
    """Why the repository could not be surveyed (its config, GitHub's answer); the lists
    are then empty."""
    pending_label: str = "pending-release"
    pending_release: Listing[PendingIssue] = field(default_factory=Listing)
    blocking_labels: tuple[str, ...] = ()
    blocked: Listing[BlockedPull] = field(default_factory=Listing)
    sweep_enabled: bool = True
    sweep: Listing[SweepItem] = field(default_factory=Listing)
    releases: tuple[ReleaseRun, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The stored body (``taken_at`` and the name live in the row, not here)."""
        return {
            "format": FORMAT,
            "error": self.error,
            "pending_release": {
                "label": self.pending_label,
                "total": self.pending_release.total,
                "items": [
                    {"number": i.number, "title": i.title, "url": i.url, "state": i.state}
                    for i in self.pending_release.items
                ],
            },
            "blocked": {
                "labels": list(self.blocking_labels),
                "total": self.blocked.total,
                "items": [
                    {"number": i.number, "title": i.title, "url": i.url, "labels": list(i.labels)}
                    for i in self.blocked.items
                ],
            },
            "sweep": {
                "enabled": self.sweep_enabled,
                "total": self.sweep.total,
                "items": [
                    {"number": i.number, "title": i.title, "url": i.url, "actions": list(i.actions)}
                    for i in self.sweep.items
                ],
            },
            "releases": [_release_json(r) for r in self.releases],
        }

    @classmethod
    def from_json(cls, repository: str, taken_at: datetime | None, data: Any) -> RepositorySurvey:
        """A stored body; one this version cannot read is a survey with an error."""
        try:
            return _repository(repository, taken_at, data)
        except (KeyError, TypeError, ValueError, PayloadError) as exc:
            log.warning("survey of %s unreadable: %s", repository, exc)
            return cls(repository, taken_at, error="survey unreadable: survey again")


@dataclass(frozen=True, slots=True)
class ApiBudget:
    """What an installation's last survey cost, and the rate limit GitHub reported last."""

    requests: int
    """Answers GitHub sent during the survey."""
    reads: int
    """...of which to GETs."""
    not_modified: int
    """...of which the ETag store answered (``304 Not Modified``: no rate limit spent)."""
    resource: str | None = None
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None

    @property
    def saved_share(self) -> float | None:
        """The share of the survey's reads the ETag cache answered (``None``: no reads)."""
        return self.not_modified / self.reads if self.reads else None

    @property
    def saved_percent(self) -> int | None:
        share = self.saved_share
        return None if share is None else round(share * 100)


@dataclass(frozen=True, slots=True)
class InstallationSurvey:
    installation_id: int
    taken_at: datetime | None
    budget: ApiBudget | None
    repositories: tuple[RepositorySurvey, ...]
    left_out: int = 0
    """The installation's repositories the survey did not cover (past its bound)."""

    @property
    def account(self) -> str | None:
        """The account the installation is on, as its repositories' names tell it."""
        return account_of(r.repository for r in self.repositories)


def account_of(names: Iterable[str]) -> str | None:
    """The one owner of ``names`` (``OWNER/NAME``); ``None`` for none or several."""
    owners = {name.split("/", 1)[0] for name in names}
    return owners.pop() if len(owners) == 1 else None


class Surveys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)

    def save(
        self,
        installation_id: int,
        taken_at: datetime,
        repositories: Sequence[RepositorySurvey],
        budget: ApiBudget,
        left_out: int = 0,
    ) -> None:
        """Replace the installation's survey with ``repositories`` and ``budget``, in one
        transaction; ``left_out``: how many of its repositories the survey did not cover."""
        names = [r.repository for r in repositories]
        insert = sqlite_insert if self.sqlite else pg_insert
        with self.engine.begin() as conn:
            gone = delete(surveys).where(surveys.c.installation_id == installation_id)
            if names:
                gone = gone.where(surveys.c.repository.not_in(names))
            conn.execute(gone)
            for repo in repositories:
                data = repo.to_json()
                if left_out > 0:
                    data[LEFT_OUT] = left_out
                body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                ins = insert(surveys).values(
                    installation_id=installation_id,
                    repository=repo.repository,
                    taken_at=taken_at,
                    body=body,
                )
                conn.execute(
                    ins.on_conflict_do_update(
                        index_elements=[surveys.c.installation_id, surveys.c.repository],
                        set_={"taken_at": ins.excluded.taken_at, "body": ins.excluded.body},
                    )
                )
            values = {
                "taken_at": taken_at,
                "requests": budget.requests,
                "reads": budget.reads,
                "not_modified": budget.not_modified,
                "rate_resource": budget.resource,
                "rate_limit": budget.limit,
                "rate_remaining": budget.remaining,
                "rate_reset_at": budget.reset_at,
            }
            ins = insert(survey_budgets).values(installation_id=installation_id, **values)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=[survey_budgets.c.installation_id],
                    set_={k: getattr(ins.excluded, k) for k in values},
                )
            )

    def latest(self) -> list[InstallationSurvey]:
        """Every installation's last survey, by installation id, its repositories by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(surveys).order_by(surveys.c.installation_id, surveys.c.repository)
            ).all()
            budgets = {
                int(b.installation_id): b for b in conn.execute(select(survey_budgets)).all()
            }
            conn.rollback()
        repos: dict[int, list[RepositorySurvey]] = {}
        left_out: dict[int, int] = {}
        for row in rows:
            iid = int(row.installation_id)
            repo, left = _row_and_left_out(row)
            repos.setdefault(iid, []).append(repo)
            left_out[iid] = max(left_out.get(iid, 0), left)  # one survey's rows: all alike
        out = []
        for iid in sorted(repos.keys() | budgets.keys()):
            b = budgets.get(iid)
            taken = aware(b.taken_at) if b is not None else None
            out.append(
                InstallationSurvey(
                    iid,
                    taken,
                    _budget(b) if b is not None else None,
                    tuple(repos.get(iid, ())),
                    left_out.get(iid, 0),
                )
            )
        return out

    def repositories(self, installation_id: int) -> dict[str, RepositorySurvey]:
        """The last survey of each of the installation's repositories, by name (one read)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(surveys).where(surveys.c.installation_id == installation_id)
            ).all()
            conn.rollback()
        return {row.repository: _row(row) for row in rows}

    def accounts(self) -> dict[int, str | None]:
        """Each surveyed installation's account (`account_of`), from the repositories' names
        alone: no body is read."""
        names: dict[int, list[str]] = {}
        with self.engine.connect() as conn:
            for iid, name in conn.execute(select(surveys.c.installation_id, surveys.c.repository)):
                names.setdefault(int(iid), []).append(name)
            conn.rollback()
        return {iid: account_of(found) for iid, found in names.items()}

    def drop(self, installation_id: int) -> None:
        """Forget an installation's surveys (the App was uninstalled)."""
        with self.engine.begin() as conn:
            conn.execute(delete(surveys).where(surveys.c.installation_id == installation_id))
            conn.execute(
                delete(survey_budgets).where(survey_budgets.c.installation_id == installation_id)
            )


# -- reading stored bodies --------------------------------------------------------------------


def _row(row: Any) -> RepositorySurvey:
    return _row_and_left_out(row)[0]


def _row_and_left_out(row: Any) -> tuple[RepositorySurvey, int]:
    """A stored row's survey, and the ``left_out`` its body records (0 when it has none)."""
    taken = aware(row.taken_at)
    try:
        data = json.loads(row.body)
    except (ValueError, RecursionError):
        data = None
    left = data.get(LEFT_OUT, 0) if isinstance(data, dict) else 0
    if isinstance(left, bool) or not isinstance(left, int) or left < 0:
        left = 0
    return RepositorySurvey.from_json(str(row.repository), taken, data), left


def _budget(row: Any) -> ApiBudget:
    return ApiBudget(
        requests=int(row.requests),
        reads=int(row.reads),
        not_modified=int(row.not_modified),
        resource=row.rate_resource,
        limit=row.rate_limit,
        remaining=row.rate_remaining,
        reset_at=aware(row.rate_reset_at),
    )


def _release_json(r: ReleaseRun) -> dict[str, Any]:
    asset = r.run_asset
    return {
        "tag": r.tag,
        "name": r.name,
        "published_at": r.published_at,
        "url": r.url,
        "prerelease": r.prerelease,
        "run": r.run.to_json() if r.run is not None else None,
        "run_error": r.run_error,
        "run_asset": (
            {"id": asset.id, "size": asset.size, "sha256": asset.sha256} if asset else None
        ),
    }


def _repository(repository: str, taken_at: datetime | None, data: Any) -> RepositorySurvey:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a survey of format {FORMAT}")
    pending, blocked, sweep = data["pending_release"], data["blocked"], data["sweep"]
    return RepositorySurvey(
        repository=repository,
        taken_at=taken_at,
        error=_opt_text(data.get("error"), MAX_ERROR),
        pending_label=title_text(pending["label"], MAX_LABEL),
        pending_release=_listing(
            pending,
            lambda i: PendingIssue(
                _number(i["number"]), title_text(i["title"]), safe_url(i["url"]), str(i["state"])
            ),
        ),
        blocking_labels=tuple(title_text(x, MAX_LABEL) for x in blocked["labels"]),
        blocked=_listing(
            blocked,
            lambda i: BlockedPull(
                _number(i["number"]),
                title_text(i["title"]),
                safe_url(i["url"]),
                tuple(title_text(x, MAX_LABEL) for x in i["labels"]),
            ),
        ),
        sweep_enabled=bool(sweep["enabled"]),
        sweep=_listing(
            sweep,
            lambda i: SweepItem(
                _number(i["number"]),
                title_text(i["title"]),
                safe_url(i["url"]),
                tuple(title_text(x, MAX_LABEL + 10) for x in i["actions"]),
            ),
        ),
        releases=tuple(_release(r) for r in data["releases"][:MAX_ITEMS]),
    )


def _listing(section: dict[str, Any], item: Callable[[dict[str, Any]], T]) -> Listing[T]:
    items = tuple(item(i) for i in section["items"][:MAX_ITEMS])
    return Listing(items, max(len(items), _number(section["total"])))


def _release(data: dict[str, Any]) -> ReleaseRun:
    run = data.get("run")
    asset = data.get("run_asset")
    return ReleaseRun(
        tag=title_text(data["tag"]),
        name=title_text(data["name"]),
        published_at=_opt_text(data.get("published_at"), 40),
        url=safe_url(data.get("url")),
        prerelease=bool(data.get("prerelease")),
        run=RunRecord.from_json(run, "stored run record") if run is not None else None,
        run_error=_opt_text(data.get("run_error"), MAX_ERROR),
        run_asset=(
            RunAsset(_number(asset["id"]), _number(asset["size"]), _opt_text(asset["sha256"], 64))
            if isinstance(asset, dict)
            else None
        ),
    )


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _opt_text(value: Any, limit: int) -> str | None:
    return None if value is None else title_text(value, limit)
