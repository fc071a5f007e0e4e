"""The Repositories and Releases views' contexts, from the surveys the workers stored
(`server.surveys`): pure, so what a page shows is tested without a browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steward.pipeline.report import gantt_rows, run_gantt
from steward.server.page import charts
from steward.server.surveys import InstallationSurvey, ReleaseRun, RepositorySurvey

RELEASES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Item:
    number: int
    title: str
    url: str
    note: tuple[str, ...] = ()


def _web_url(repository: str, api_item_url: str) -> str:
    """The repository's page, from one of its items' addresses (GitHub's or a GHES host),
    else github.com's."""
    marker = f"/{repository}/"
    if marker in api_item_url:
        return api_item_url.split(marker, 1)[0] + f"/{repository}"
    return f"https://github.com/{repository}"


def _repository(repo: RepositorySurvey) -> dict[str, Any]:
    pending = [
        Item(i.number, i.title, i.url, () if i.state == "open" else (i.state,))
        for i in repo.pending_release.items
    ]
    blocked = [Item(p.number, p.title, p.url, p.labels) for p in repo.blocked.items]
    sweep = [Item(s.number, s.title, s.url, (s.summary,)) for s in repo.sweep.items]
    any_url = next((i.url for i in (*pending, *blocked, *sweep) if i.url), "")
    for listing, shown in ((repo.pending_release, pending), (repo.blocked, blocked)):
        if listing.more:
            shown.append(Item(0, f"… and {listing.more} more", "", ()))
    return {
        "name": repo.repository,
        "url": _web_url(repo.repository, any_url),
        "error": repo.error,
        "pending_release": pending,
        "blocked": blocked,
        "sweep": sweep if repo.sweep_enabled else [],
        "sweep_enabled": repo.sweep_enabled,
    }


def repositories_view(
    surveyed: Sequence[InstallationSurvey], interval_seconds: int = 900
) -> dict[str, Any]:
    installations = []
    for inst in surveyed:
        budget = inst.budget
        installations.append(
            {
                "id": inst.installation_id,
                "account": inst.account,
                "taken_at": inst.taken_at,
                "remaining": budget.remaining if budget else None,
                "limit": budget.limit if budget else None,
                "saved": budget.saved_percent if budget else None,
                "not_modified": budget.not_modified if budget else 0,
                "conditional": budget.reads if budget else 0,
                "requests": budget.requests if budget else 0,
                "repos": [_repository(r) for r in inst.repositories],
                "left_out": inst.left_out,
            }
        )
    return {"installations": installations, "interval": _every(interval_seconds)}


def _every(seconds: int) -> str:
    if seconds == 0:
        return ""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


@dataclass(frozen=True, slots=True)
class StageLine:
    title: str
    status: str
    seconds: float


def _release(repository: str, release: ReleaseRun) -> dict[str, Any]:
    published = _when(release.published_at)
    out: dict[str, Any] = {
        "repo": repository,
        "tag": release.tag,
        "url": release.url,
        "prerelease": release.prerelease,
        "published_at": published,
        "chart": None,
        "stages": [],
        "mermaid": "",
        "seconds": None,
        "run_error": release.run_error,
    }
    if release.run is None:
        return out
    spans: list[charts.Span] = []
    lines: list[StageLine] = []
    for row in gantt_rows(release.run):
        if row.start_offset_s is None or row.seconds is None:
            lines.append(StageLine(row.title, row.status, 0.0))
            continue
        lines.append(StageLine(row.title, row.status, row.seconds))
        spans.append(charts.Span(row.title, row.status, row.start_offset_s, row.seconds))
        spans.extend(
            charts.Span(p.title, row.status, p.start_offset_s, p.seconds, depth=1)
            for p in row.parts
        )
    out.update(
        chart=charts.gantt(spans) if spans else None,
        stages=lines,
        mermaid=run_gantt(release.run),
        seconds=max((s.start + s.seconds for s in spans), default=0.0),
    )
    return out


def releases_view(surveyed: Sequence[InstallationSurvey]) -> dict[str, Any]:
    """Every surveyed release, newest first (at most `RELEASES_SHOWN`)."""
    rows = [
        _release(repo.repository, rel)
        for inst in surveyed
        for repo in inst.repositories
        for rel in repo.releases
    ]
    rows.sort(
        key=lambda r: r["published_at"].timestamp() if r["published_at"] else 0.0, reverse=True
    )
    return {"releases": rows[:RELEASES_SHOWN]}


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
