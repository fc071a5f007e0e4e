"""Release notes from GitHub, with as few calls as the API allows.

Reads: one page of releases (the last published one gives the date), then the merged PRs
since that date through the search API, 100 per call (`GET /search/issues` with
`repo:O/R is:pr is:merged merged:>DATE`). Writes: `--publish` keeps one draft release; it
updates the existing draft (found in the same releases page) only when its tag, name or
body differ, so a second run sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from steward.domain.api import label_names, user_from_api
from steward.errors import NotFoundError, PayloadError, UsageError
from steward.github.client import GitHubClient
from steward.github.repo_api import RepoApi
from steward.release.notes import Notes, PullRequest
from steward.release.tags import TagScheme
from steward.shell.identity import Login

log = logging.getLogger(__name__)

SEARCH_CAP = 1000  # the search API returns at most 1,000 results per query


@dataclass(frozen=True, slots=True)
class LastRelease:
    tag: str
    date: str


def list_releases(client: GitHubClient, repo: str) -> list[dict[str, Any]]:
    """The first page (100) of releases, newest first: enough for the last one and a draft."""
    return RepoApi(client, repo).releases_page()


def last_release(releases: list[dict[str, Any]], scheme: TagScheme) -> LastRelease | None:
    """The published, final release with the highest version (by tag)."""
    best: tuple[Any, LastRelease] | None = None
    for rel in releases:
        if rel.get("draft") or rel.get("prerelease"):
            continue
        tag = rel.get("tag_name")
        version = scheme.parse(tag) if isinstance(tag, str) else None
        date = rel.get("published_at") or rel.get("created_at")
        if version is None or not isinstance(date, str) or not date:
            continue
        if best is None or version > best[0]:
            best = (version, LastRelease(str(tag), date))
    return best[1] if best else None


def release_by_tag(client: GitHubClient, repo: str, tag: str) -> LastRelease:
    try:
        rel = RepoApi(client, repo).release_by_tag(tag)
    except NotFoundError:
        raise UsageError(f"--since {tag}: {repo} has no release with that tag") from None
    date = rel.get("published_at") or rel.get("created_at")
    if not isinstance(date, str) or not date:
        raise PayloadError(f"release {tag}: GitHub gave no publication date")
    return LastRelease(tag, date)


def merged_pulls(client: GitHubClient, repo: str, since: str | None) -> list[PullRequest]:
    """Merged PRs since ``since`` (ISO date-time), one search call per 100, each PR once."""
    query = f"repo:{repo} is:pr is:merged"
    if since:
        query += f" merged:>{since}"
    pulls: list[PullRequest] = []
    for item in RepoApi(client, repo).search_issues(query, limit=SEARCH_CAP):
        try:
            pulls.append(_pull(item))
        except PayloadError as exc:
            log.warning("search result skipped: %s", exc)
    return pulls


def _pull(item: dict[str, Any]) -> PullRequest:
    number, title = item.get("number"), item.get("title")
    if not isinstance(number, int) or isinstance(number, bool) or not isinstance(title, str):
        raise PayloadError("a search result without a number or title")
    return PullRequest(
        number=number,
        title=title[:1024],
        author=Login(user_from_api(item.get("user")).login),
        labels=label_names(item.get("labels"), f"#{number}"),
    )


@dataclass(frozen=True, slots=True)
class PublishResult:
    action: str  # "created" | "updated" | "unchanged"
    release_id: int | None
    html_url: str | None


def publish_draft(
    client: GitHubClient,
    repo: str,
    notes: Notes,
    releases: list[dict[str, Any]],
    *,
    dry_run: bool = False,
) -> PublishResult:
    """Create the one draft release, or bring the existing draft up to date."""
    api = RepoApi(client, repo)
    wanted = {"tag_name": notes.tag, "name": notes.tag, "body": notes.body}
    draft = next((r for r in releases if r.get("draft") and _id(r) is not None), None)
    if draft is None:
        if dry_run:
            return PublishResult("would create", None, None)
        made = api.create_release({**wanted, "draft": True})
        return PublishResult("created", _id(made), _url(made))
    rid = _id(draft)
    assert rid is not None
    if all(draft.get(k) == v for k, v in wanted.items()):
        return PublishResult("unchanged", rid, _url(draft))
    if dry_run:
        return PublishResult("would update", rid, _url(draft))
    api.update_release(rid, wanted)
    return PublishResult("updated", rid, _url(draft))


def _id(release: dict[str, Any]) -> int | None:
    rid = release.get("id")
    return rid if isinstance(rid, int) and not isinstance(rid, bool) else None


def _url(release: dict[str, Any]) -> str | None:
    url = release.get("html_url")
    return url if isinstance(url, str) else None
