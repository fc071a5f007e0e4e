"""Release notes from GitHub, with as few calls as the API allows.

Reads: one page of releases (the last published one gives the date), then the merged PRs
since that date through the search API, 100 per call (`GET /search/issues` with
`repo:O/R is:pr is:merged merged:>DATE`). Writes: `--publish` keeps one draft release; it
updates the existing draft (found in the same releases page) only when its tag, name or
body differ, so a second run sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steward.domain.logins import Login
from steward.errors import NotFoundError, PayloadError, UsageError
from steward.github.client import GitHubClient
from steward.github.records import GitHubRelease
from steward.github.repo_api import RepoApi
from steward.release.notes.draft import Notes, PullRequest
from steward.release.tags import TagScheme

SEARCH_CAP = 1000  # the search API returns at most 1,000 results per query


@dataclass(frozen=True, slots=True)
class LastRelease:
    tag: str
    date: str


def list_releases(client: GitHubClient, repo: str) -> list[GitHubRelease]:
    """The first page (100) of releases, newest first: enough for the last one and a draft
    (`last_release` and `publish_draft` take it)."""
    return RepoApi(client, repo).releases_page()


def last_release(releases: list[GitHubRelease], scheme: TagScheme) -> LastRelease | None:
    """The published, final release with the highest version (by tag)."""
    best: tuple[Any, LastRelease] | None = None
    for rel in releases:
        if rel.draft or rel.prerelease:
            continue
        tag = rel.tag_name
        version = scheme.parse(tag) if tag is not None else None
        date = rel.date
        if version is None or tag is None or date is None:
            continue
        if best is None or version > best[0]:
            best = (version, LastRelease(tag, date))
    return best[1] if best else None


def release_by_tag(client: GitHubClient, repo: str, tag: str) -> LastRelease:
    try:
        rel = RepoApi(client, repo).release_by_tag(tag)
    except NotFoundError:
        raise UsageError(f"--since {tag}: {repo} has no release with that tag") from None
    if rel.date is None:
        raise PayloadError(f"release {tag}: GitHub gave no publication date")
    return LastRelease(tag, rel.date)


def merged_pulls(client: GitHubClient, repo: str, since: str | None) -> list[PullRequest]:
    """Merged PRs since ``since`` (ISO date-time), one search call per 100, each PR once."""
    query = f"repo:{repo} is:pr is:merged"
    if since:
        query += f" merged:>{since}"
    return [
        PullRequest(
            number=item.number,
            title=item.title[:1024],
            author=Login(item.author.login),
            labels=item.labels,
        )
        for item in RepoApi(client, repo).search_issues(query, limit=SEARCH_CAP)
    ]


@dataclass(frozen=True, slots=True)
class PublishResult:
    action: str  # "created" | "updated" | "unchanged"
    release_id: int | None
    html_url: str | None


def publish_draft(
    client: GitHubClient,
    repo: str,
    notes: Notes,
    releases: list[GitHubRelease],
    *,
    dry_run: bool = False,
) -> PublishResult:
    """Create the one draft release, or bring the existing draft up to date."""
    api = RepoApi(client, repo)
    draft = next((r for r in releases if r.draft and r.id is not None), None)
    if draft is None:
        if dry_run:
            return PublishResult("would create", None, None)
        made = api.create_release(tag_name=notes.tag, name=notes.tag, body=notes.body)
        return PublishResult("created", made.id, made.html_url)
    rid = draft.id
    assert rid is not None
    if (draft.tag_name, draft.name, draft.body) == (notes.tag, notes.tag, notes.body):
        return PublishResult("unchanged", rid, draft.html_url)
    if dry_run:
        return PublishResult("would update", rid, draft.html_url)
    api.edit_release(rid, tag_name=notes.tag, name=notes.tag, body=notes.body)
    return PublishResult("updated", rid, draft.html_url)
