"""The one GitHub adapter: every REST operation steward sends, on one repository.

Automation (labels, comments, statuses, issues), release notes (releases, search), the
release pipeline (releases, the bump PR, pending issues) and identity (`GET /user`) all go
through here, over the one `GitHubClient` (transport, retries, rate limits, same-origin
pagination) and its pure protocol core (`github.sansio`). Responses become domain records at
this edge (`domain.api`): unusual but valid data is normalised, an item that is not what
GitHub documents is skipped with a warning naming it, and a listing that served an item
twice (it shifted while being paged) yields it once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from steward.domain import refs
from steward.domain.api import (
    IssueComment,
    comment_from_api,
    file_from_api,
    files_from_api,
    is_pull_request,
    issue_from_api,
    parse_items,
)
from steward.domain.events import pull_request_from
from steward.domain.models import ChangedFile, Issue, PullRequest
from steward.domain.names import check_full_name
from steward.errors import GitHubError, NotFoundError, PayloadError
from steward.github import sansio
from steward.github.client import GitHubClient, path, segment
from steward.github.records import (
    GitHubRelease,
    Label,
    ReleaseAsset,
    RepoContent,
    SearchIssue,
    asset_from_api,
    content_from_api,
    label_from_api,
    release_from_api,
    search_issue_from_api,
)

log = logging.getLogger(__name__)

__all__ = ["RepoApi", "files_from_api", "issue_with_dates"]

# A GitHub login: letters, digits and single hyphens, at most 39 characters. Only such a
# login is put into a search query (nothing from a payload becomes search syntax).
_LOGIN = re.compile(rf"^{refs.LOGIN}$")
MAX_PAGE = 10_000  # a `last` link beyond this is not believed


class RepoApi:
    def __init__(self, client: GitHubClient, full_name: str) -> None:
        check_full_name(full_name)
        self.client = client
        self.owner, self.name = full_name.split("/")
        self.full_name = full_name
        self._login: str | None = None
        # author (casefolded) -> number of their oldest issue here; only found numbers are
        # kept (an oldest issue stays the oldest), so one search per author and run.
        self._first_issues: dict[str, int] = {}

    def _p(self, template: str, **parts: str | int) -> str:
        return path(template, owner=self.owner, repo=self.name, **parts)

    # -- reads ----------------------------------------------------------------------------

    def pr_files(self, number: int) -> list[ChangedFile]:
        url = self._p("/repos/{owner}/{repo}/pulls/{n}/files", n=number)
        return parse_items(
            self.client.paginate(url),
            file_from_api,
            f"{self.full_name}#{number} changed files:",
            key=lambda f: f.filename,
        )

    def issue(self, number: int) -> Issue:
        url = self._p("/repos/{owner}/{repo}/issues/{n}", n=number)
        return issue_from_api(self.client.get_object(url))

    def open_issues_with_label(self, label: str) -> list[Issue]:
        return self.issues_with_label(label, state="open")

    def issues_with_label(self, label: str, *, state: str = "open") -> list[Issue]:
        """Issues (not PRs) carrying ``label``; ``state`` is open, closed or all."""
        url = self._p("/repos/{owner}/{repo}/issues")
        items = self.client.paginate(url, {"state": state, "labels": label})
        return self._issues((i for i in items if not is_pull_request(i)), f"issues with {label}")

    def open_items(self) -> list[Issue]:
        """Every open issue and pull request (the sweep's input), with `updated_at` and
        `created_at`."""
        url = self._p("/repos/{owner}/{repo}/issues")
        return parse_items(
            self.client.paginate(url, {"state": "open"}),
            issue_with_dates,
            f"{self.full_name} open issues:",
            key=_number,
        )

    def pull(self, number: int) -> PullRequest:
        """One pull request, as it is now (``GET /repos/{owner}/{repo}/pulls/{n}``)."""
        url = self._p("/repos/{owner}/{repo}/pulls/{n}", n=number)
        return pull_request_from(self.client.get_object(url))

    def first_issue_by(self, login: str) -> int | None:
        """The number of the oldest issue (not PR) ``login`` opened in this repository, or
        ``None`` when the search lists none (its index can lag behind an issue just opened).

        One search read (``GET /search/issues``, sorted by creation, one result); search has
        its own rate limit (30 requests a minute with a token), so a found number is kept for
        this object's life. A login that is not GitHub's form is a `PayloadError`, and a
        search that timed out before finding anything a `GitHubError`.
        """
        key = login.casefold()
        if key in self._first_issues:
            return self._first_issues[key]
        if not _LOGIN.match(login):
            raise PayloadError(f"{login[:60]!r} is not a GitHub login; not searched for")
        query = f"repo:{self.full_name} is:issue author:{login}"
        data = self.client.get_object(
            "/search/issues", {"q": query, "sort": "created", "order": "asc", "per_page": 1}
        )
        items = data.get("items")
        if not isinstance(items, list) or not items:
            if data.get("incomplete_results") is True:
                raise GitHubError(f"search for {login}'s issues timed out before any result")
            return None
        first = items[0]
        number = first.get("number") if isinstance(first, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or is_pull_request(first):
            raise PayloadError(f"search for {login}'s issues: the first result is not an issue")
        self._first_issues[key] = number
        return number

    def timeline(self, number: int) -> tuple[list[Any], bool]:
        """An item's newest timeline events, oldest first, and whether they are all of them.

        One read when the timeline fits one page (100 events), two when it fits two;
        beyond, the first page and the last (the newest events) are read and ``False``
        says events between them were not.
        """
        url = self._p("/repos/{owner}/{repo}/issues/{n}/timeline", n=number)
        first, last = self._timeline_page(url, 1)
        if last <= 1:
            return first, True
        tail, _ = self._timeline_page(url, last)
        if last == 2:
            return first + tail, True
        return tail, False

    def _timeline_page(self, url: str, page: int) -> tuple[list[Any], int]:
        """One page of a listing and the number of its last page (from ``Link: rel=last``)."""
        params: dict[str, Any] = {"per_page": 100}
        if page > 1:
            params["page"] = page
        at = sansio.where("GET", url)
        # Not from the ETag store: this reader trusts `rel="last"`, which a stored page
        # answered by a 304 may have stale (a timeline grows at its end).
        resp = self.client.request("GET", url, params=params, conditional=False)
        data = sansio.decode_json(resp.status_code, resp.headers, resp.content, at)
        items = sansio.page_items(data, None, at)
        last = sansio.links(resp.headers.get("link")).get("last")
        pages = parse_qs(urlsplit(last).query).get("page", []) if last else []
        found = pages[0] if pages else ""
        # Whole ASCII digits or no last page (#16): `²`, `٣` or 5000 digits are not read.
        n = refs.number(found)
        last_page = n if n is not None and n <= MAX_PAGE else page
        return items, max(last_page, page)

    def _issues(self, items: Iterator[Any], what: str) -> list[Issue]:
        return parse_items(items, issue_from_api, f"{self.full_name} {what}:", key=_number)

    def comments(self, number: int) -> Iterator[IssueComment]:
        url = self._p("/repos/{owner}/{repo}/issues/{n}/comments", n=number)
        for i, raw in enumerate(self.client.paginate(url)):
            try:
                yield comment_from_api(raw)
            except PayloadError as exc:
                log.warning("%s#%d comment %d skipped: %s", self.full_name, number, i, exc)

    def combined_status(self, sha: str) -> dict[str, tuple[str, str]]:
        """Latest status per context on ``sha``: context -> (state, description)."""
        url = self._p("/repos/{owner}/{repo}/commits/{ref}/status", ref=sha)
        data = self.client.get_object(url)
        statuses = data.get("statuses")
        out: dict[str, tuple[str, str]] = {}
        for s in statuses if isinstance(statuses, list) else []:
            if not isinstance(s, dict):
                continue
            context, state = s.get("context"), s.get("state")
            if isinstance(context, str) and isinstance(state, str):
                description = s.get("description")
                out.setdefault(
                    context, (state, description if isinstance(description, str) else "")
                )
        return out

    def labels(self) -> list[Label]:
        """The repository's labels, one per name (case-blind, the first listed)."""
        out: dict[str, Label] = {}
        for i, raw in enumerate(self.client.paginate(self._p("/repos/{owner}/{repo}/labels"))):
            try:
                lbl = label_from_api(raw)
            except PayloadError:
                log.warning("%s label %d has no name; ignored", self.full_name, i)
                continue
            out.setdefault(lbl.name.casefold(), lbl)
        return list(out.values())

    def contents(self, file_path: str) -> RepoContent | None:
        """What the default branch holds at ``file_path`` (``GET
        /repos/{owner}/{repo}/contents/{path}``); ``None`` when nothing is there."""
        try:
            data = self.client.get(contents_path(self.full_name, file_path))
        except NotFoundError:
            return None
        return content_from_api(data)

    def authenticated_login(self) -> str:
        """The login of the token's user (`GET /user`), read once for this object."""
        if self._login is None:
            data = self.client.get_object("/user")
            login = data.get("login")
            if not isinstance(login, str) or not login:
                raise PayloadError("GET /user: the answer has no login")
            self._login = login
        return self._login

    # -- writes ---------------------------------------------------------------------------

    def add_labels(self, number: int, labels: list[str]) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/issues/{n}/labels", n=number), {"labels": labels}
        )

    def remove_label(self, number: int, label: str) -> None:
        self.client.delete(
            self._p("/repos/{owner}/{repo}/issues/{n}/labels/{name}", n=number, name=label),
            missing_ok=True,
        )

    def comment(self, number: int, body: str) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/issues/{n}/comments", n=number), {"body": body}
        )

    def set_status(self, sha: str, state: str, context: str, description: str) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/statuses/{sha}", sha=sha),
            {"state": state, "context": context, "description": description[:140]},
        )

    def close_issue(self, number: int, reason: str, *, labels: list[str] | None = None) -> None:
        """Close ``number``; with ``labels``, set its whole label set in the same PATCH (one
        write where a label removal and a close took two)."""
        body: dict[str, Any] = {"state": "closed", "state_reason": reason}
        if labels is not None:
            body["labels"] = labels
        self.client.patch(self._p("/repos/{owner}/{repo}/issues/{n}", n=number), body)

    def create_label(self, name: str, color: str, description: str) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/labels"),
            {"name": name, "color": color, "description": description},
        )

    def update_label(self, current: str, *, new_name: str, color: str, description: str) -> None:
        self.client.patch(
            self._p("/repos/{owner}/{repo}/labels/{name}", name=current),
            {"new_name": new_name, "color": color, "description": description},
        )

    def delete_label(self, name: str) -> None:
        self.client.delete(
            self._p("/repos/{owner}/{repo}/labels/{name}", name=name), missing_ok=True
        )

    # -- releases -------------------------------------------------------------------------

    def releases_page(self) -> list[GitHubRelease]:
        """The first page (100) of releases, newest first (non-objects dropped)."""
        url = self._p("/repos/{owner}/{repo}/releases")
        data = sansio.expect_list(self.client.get(url, {"per_page": 100}), f"GET {url}")
        return [release_from_api(item) for item in _objects(data, f"{self.full_name} releases")]

    def releases(self) -> Iterator[GitHubRelease]:
        """Every release, newest first, page by page (a non-object skipped with a warning)."""
        for i, rel in enumerate(self.client.paginate(self._p("/repos/{owner}/{repo}/releases"))):
            if isinstance(rel, dict):
                yield release_from_api(rel)
            else:
                log.warning("%s release %d is not an object; skipped", self.full_name, i)

    def release_by_tag(self, tag: str) -> GitHubRelease:
        url = self._p("/repos/{owner}/{repo}/releases/tags/{tag}", tag=tag)
        return release_from_api(self.client.get_object(url))

    def create_release(
        self, *, tag_name: str, name: str, body: str, draft: bool = True
    ) -> GitHubRelease:
        made = self.client.post(
            self._p("/repos/{owner}/{repo}/releases"),
            {"tag_name": tag_name, "name": name, "body": body, "draft": draft},
        )
        return release_from_api(sansio.expect_object(made, "POST releases"))

    def edit_release(self, release_id: int, **fields: str | bool) -> GitHubRelease:
        """PATCH the release's ``fields`` (``tag_name``, ``name``, ``body``, ``draft``,
        ``prerelease``); the release as it is now."""
        url = self._p("/repos/{owner}/{repo}/releases/{rid}", rid=release_id)
        answer = sansio.expect_object(self.client.patch(url, dict(fields)), f"PATCH {url}")
        return release_from_api(answer)

    def release_assets(self, release_id: int) -> list[ReleaseAsset]:
        """The release's assets, one per name (an item without id, name or size skipped
        with a warning)."""
        url = self._p("/repos/{owner}/{repo}/releases/{rid}/assets", rid=release_id)
        return parse_items(
            self.client.paginate(url),
            asset_from_api,
            f"{self.full_name} release {release_id} assets:",
            key=_asset_name,
        )

    def upload_release_asset(
        self, release: GitHubRelease, name: str, data: bytes, content_type: str
    ) -> ReleaseAsset:
        """Attach ``data`` as ``name`` to ``release``, at the ``upload_url`` the API gave for
        it (the client sends the token there only when it is an allowed upload host)."""
        if release.upload_url is None or release.id is None:
            raise PayloadError(f"{self.full_name} release {release.tag_name}: no upload_url")
        url = sansio.expand_upload_url(release.upload_url)
        expected = self._p("/repos/{owner}/{repo}/releases/{rid}/assets", rid=release.id)
        if not urlsplit(url).path.endswith(expected):
            raise PayloadError(
                f"{self.full_name} release {release.id}: its upload_url is not this release's "
                "assets endpoint; not sending the token there"
            )
        answer = self.client.upload(url, data, content_type, {"name": name})
        return asset_from_api(sansio.expect_object(answer, f"POST {urlsplit(url).path}"))

    def download_release_asset(self, asset: ReleaseAsset, *, max_bytes: int) -> bytes:
        """The asset's bytes (``GET .../releases/assets/{id}`` as octet-stream), at most
        ``max_bytes``; the storage host it redirects to never sees the token."""
        url = self._p("/repos/{owner}/{repo}/releases/assets/{aid}", aid=asset.id)
        return self.client.download(url, max_bytes)

    def search_issues(self, query: str, *, limit: int) -> list[SearchIssue]:
        """Search results for ``query`` (scoped to this repository by the caller's
        ``repo:`` qualifier), oldest first, at most ``limit``, one per number; a result
        without a title or with labels that are not a list is skipped with a warning."""
        out: dict[int, Any] = {}
        items = self.client.paginate(
            "/search/issues", {"q": query, "sort": "created", "order": "asc"}, items_key="items"
        )
        for i, item in enumerate(items):
            number = item.get("number") if isinstance(item, dict) else None
            if not isinstance(number, int) or isinstance(number, bool):
                log.warning("search result %d has no number; skipped", i)
                continue
            out[number] = item
            if len(out) >= limit:
                break
        found = []
        for item in out.values():
            try:
                found.append(search_issue_from_api(item))
            except PayloadError as exc:
                log.warning("search result skipped: %s", exc)
        return found

    # -- pull requests --------------------------------------------------------------------

    def open_pull_from(self, branch: str) -> int | None:
        """The number of an open PR from ``branch`` of this repository, if there is one."""
        url = self._p("/repos/{owner}/{repo}/pulls")
        for pr in self.client.paginate(url, {"state": "open", "head": f"{self.owner}:{branch}"}):
            number = pr.get("number") if isinstance(pr, dict) else None
            if isinstance(number, int) and not isinstance(number, bool):
                return number
        return None

    def create_pull(self, *, title: str, head: str, base: str, body: str) -> int:
        url = self._p("/repos/{owner}/{repo}/pulls")
        made = sansio.expect_object(
            self.client.post(url, {"title": title, "head": head, "base": base, "body": body}),
            f"POST {url}",
        )
        number = made.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise PayloadError(f"POST {url}: the answer has no PR number")
        return number

    def ensure_pull(self, *, title: str, head: str, base: str, body: str) -> int:
        """The open PR from ``head``, opened now unless one already exists."""
        existing = self.open_pull_from(head)
        if existing is not None:
            return existing
        return self.create_pull(title=title, head=head, base=base, body=body)


def contents_path(full_name: str, file_path: str) -> str:
    """``/repos/{owner}/{repo}/contents/{path}``; the path keeps its slashes (GitHub's
    description marks it multi-segment), each segment percent-encoded, no dot segments."""
    owner, repo = full_name.split("/")
    segments = "/".join(segment(part) for part in file_path.split("/"))
    return f"/repos/{segment(owner)}/{segment(repo)}/contents/{segments}"


def _number(issue: Issue) -> int:
    return issue.number


def _asset_name(asset: ReleaseAsset) -> str:
    return asset.name


def issue_with_dates(obj: Any) -> Issue:
    """A REST issue (`domain.api.issue_from_api`) with its ``created_at`` as well (unknown
    when it is not a timestamp)."""
    issue = issue_from_api(obj)
    raw = obj.get("created_at")
    if not isinstance(raw, str) or len(raw) > 40:
        return issue
    try:
        created = datetime.fromisoformat(raw)
    except ValueError:
        log.warning("issue #%d: created_at is not a timestamp; treated as unknown", issue.number)
        return issue
    return replace(issue, created_at=created if created.tzinfo else created.replace(tzinfo=UTC))


def _objects(items: list[Any], what: str) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            out.append(item)
        else:
            log.warning("%s item %d is not an object; skipped", what, i)
    return out
