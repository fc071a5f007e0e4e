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

from steward.errors import NotFoundError, PayloadError, UsageError
from steward.forge.client import GitHubClient, path
from steward.release.notes import Notes, PullRequest
from steward.release.tags import TagScheme

SEARCH_CAP = 1000  # the search API returns at most 1,000 results per query


@dataclass(frozen=True, slots=True)
class LastRelease:
    tag: str
    date: str


def list_releases(client: GitHubClient, repo: str) -> list[dict[str, Any]]:
    """The first page (100) of releases, newest first: enough for the last one and a draft."""
    owner, name = repo.split("/")
    data = client.get(path("/repos/{o}/{r}/releases", o=owner, r=name), {"per_page": 100})
    if not isinstance(data, list):
        raise PayloadError("GET releases: expected a list")
    return [r for r in data if isinstance(r, dict)]


def last_release(releases: list[dict[str, Any]], scheme: TagScheme) -> LastRelease | None:
    """The published, final release with the highest version (by tag)."""
    best: tuple[Any, LastRelease] | None = None
    for rel in releases:
        if rel.get("draft") or rel.get("prerelease"):
            continue
        tag = str(rel.get("tag_name") or "")
        version = scheme.parse(tag)
        date = rel.get("published_at") or rel.get("created_at")
        if version is None or not date:
            continue
        if best is None or version > best[0]:
            best = (version, LastRelease(tag, str(date)))
    return best[1] if best else None


def release_by_tag(client: GitHubClient, repo: str, tag: str) -> LastRelease:
    owner, name = repo.split("/")
    try:
        rel = client.get(path("/repos/{o}/{r}/releases/tags/{t}", o=owner, r=name, t=tag))
    except NotFoundError:
        raise UsageError(f"--since {tag}: {repo} has no release with that tag") from None
    date = rel.get("published_at") or rel.get("created_at")
    return LastRelease(tag, str(date))


def merged_pulls(client: GitHubClient, repo: str, since: str | None) -> list[PullRequest]:
    """Merged PRs since ``since`` (ISO date-time), one search call per 100."""
    query = f"repo:{repo} is:pr is:merged"
    if since:
        query += f" merged:>{since}"
    pulls: list[PullRequest] = []
    for item in client.paginate(
        "/search/issues", {"q": query, "sort": "created", "order": "asc"}, items_key="items"
    ):
        pulls.append(_pull(item))
        if len(pulls) >= SEARCH_CAP:
            break
    return pulls


def _pull(item: Any) -> PullRequest:
    try:
        return PullRequest(
            number=int(item["number"]),
            title=str(item["title"])[:1024],
            author=str((item.get("user") or {}).get("login") or "ghost"),
            labels=tuple(str(lb["name"]) for lb in item.get("labels") or [] if "name" in lb),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"search result without {exc}") from None


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
    owner, name = repo.split("/")
    wanted = {"tag_name": notes.tag, "name": notes.tag, "body": notes.body}
    draft = next((r for r in releases if r.get("draft")), None)
    if draft is None:
        if dry_run:
            return PublishResult("would create", None, None)
        made = client.post(
            path("/repos/{o}/{r}/releases", o=owner, r=name), {**wanted, "draft": True}
        )
        return PublishResult("created", made.get("id"), made.get("html_url"))
    rid = int(draft["id"])
    if all(draft.get(k) == v for k, v in wanted.items()):
        return PublishResult("unchanged", rid, draft.get("html_url"))
    if dry_run:
        return PublishResult("would update", rid, draft.get("html_url"))
    client.patch(path("/repos/{o}/{r}/releases/{i}", o=owner, r=name, i=rid), wanted)
    return PublishResult("updated", rid, draft.get("html_url"))
