"""What the adapter hands back for releases, labels, search results and file contents.

Small frozen records, parsed here from GitHub's JSON (`RepoApi` builds them), so no code
outside `steward.github` and `steward.domain` reads a REST answer by key. A field GitHub
may leave out or send as ``null`` is ``None`` (or empty, where the caller never told the
two apart); an item without the fields steward cannot do without is a `PayloadError`, which
the listing that read it turns into a warning and a skipped item.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from steward.domain.api import label_names, user_from_api
from steward.domain.models import User
from steward.errors import PayloadError


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class GitHubRelease:
    """A release as the releases API lists it (``release``)."""

    id: int | None
    tag_name: str | None
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    html_url: str | None
    published_at: str | None
    created_at: str | None
    # RFC 6570 template of where its assets are uploaded (``https://uploads.github.com/...
    # /assets{?name,label}``): the one place the token may go off the API's origin.
    upload_url: str | None = None

    @property
    def date(self) -> str | None:
        """When it was published, else created (ISO date-time as GitHub wrote it)."""
        return self.published_at or self.created_at or None


def release_from_api(obj: Any) -> GitHubRelease:
    """A ``release`` object; a `PayloadError` when it is not an object."""
    if not isinstance(obj, dict):
        raise PayloadError("release is not an object")
    return GitHubRelease(
        id=_opt_int(obj.get("id")),
        tag_name=_opt_str(obj.get("tag_name")),
        name=_opt_str(obj.get("name")),
        body=_opt_str(obj.get("body")),
        draft=bool(obj.get("draft")),
        prerelease=bool(obj.get("prerelease")),
        html_url=_opt_str(obj.get("html_url")),
        published_at=_opt_str(obj.get("published_at")),
        created_at=_opt_str(obj.get("created_at")),
        upload_url=_opt_str(obj.get("upload_url")),
    )


@dataclass(frozen=True, slots=True)
class ReleaseAsset:
    """A file attached to a release (``release-asset``).

    ``digest`` is GitHub's ``sha256:<hex>`` of the content when it reports one (``null`` for
    assets uploaded before it computed them); ``state`` is ``uploaded`` once the upload
    finished (``open``, or the undocumented ``starter``, for one that broke off).
    """

    id: int
    name: str
    size: int
    state: str
    digest: str | None = None
    content_type: str = ""

    @property
    def sha256(self) -> str | None:
        """The hex sha256 from `digest`, when it is one."""
        algo, _, value = (self.digest or "").partition(":")
        value = value.lower()
        if algo == "sha256" and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            return value
        return None


def asset_from_api(obj: Any) -> ReleaseAsset:
    """A ``release-asset`` object; a `PayloadError` without an id, a name or a size."""
    if not isinstance(obj, dict):
        raise PayloadError("release asset is not an object")
    aid, name, size = _opt_int(obj.get("id")), _opt_str(obj.get("name")), _opt_int(obj.get("size"))
    if aid is None or not name or size is None:
        raise PayloadError("release asset without an id, a name or a size")
    return ReleaseAsset(
        id=aid,
        name=name,
        size=size,
        state=_opt_str(obj.get("state")) or "",
        digest=_opt_str(obj.get("digest")),
        content_type=_opt_str(obj.get("content_type")) or "",
    )


@dataclass(frozen=True, slots=True)
class Label:
    """A repository label (``label``): its name, colour (hex, no ``#``) and description."""

    name: str
    color: str = ""
    description: str | None = None


def label_from_api(obj: Any) -> Label:
    """A ``label`` object; a `PayloadError` without a name."""
    name = obj.get("name") if isinstance(obj, dict) else None
    if not isinstance(name, str) or not name:
        raise PayloadError("label has no name")
    color, description = obj.get("color"), obj.get("description")
    return Label(
        name=name,
        color=color if isinstance(color, str) else "",
        description=description if isinstance(description, str) else None,
    )


@dataclass(frozen=True, slots=True)
class SearchIssue:
    """One result of the issue search (``issue-search-result-item``): an issue or a pull
    request, with what release notes need of it."""

    number: int
    title: str
    author: User
    labels: tuple[str, ...]


def search_issue_from_api(obj: Any) -> SearchIssue:
    """A search result; a `PayloadError` without a number or a title."""
    number = obj.get("number") if isinstance(obj, dict) else None
    title = obj.get("title") if isinstance(obj, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or not isinstance(title, str):
        raise PayloadError("a search result without a number or title")
    return SearchIssue(
        number=number,
        title=title,
        author=user_from_api(obj.get("user")),
        labels=label_names(obj.get("labels"), f"#{number}"),
    )


@dataclass(frozen=True, slots=True)
class RepoContent:
    """What ``GET /repos/{owner}/{repo}/contents/{path}`` says of a path.

    ``kind`` is the entry's ``type`` (``file``, ``dir``, ``symlink``, ``submodule``; ``""``
    when it has none), or ``None`` when the answer is a directory listing rather than one
    entry. ``content`` is the base64 text when the entry carries one (``encoding:
    base64``), else ``None``.
    """

    kind: str | None
    sha: str | None = None
    size: int | None = None
    content: str | None = None

    def decoded(self) -> bytes | None:
        """The bytes of `content`; ``None`` when there is none or it is not valid base64."""
        if self.content is None:
            return None
        try:
            return base64.b64decode("".join(self.content.split()), validate=True)
        except (binascii.Error, ValueError):
            return None


def content_from_api(data: Any) -> RepoContent:
    """A contents answer: one entry (an object) or a directory listing (anything else)."""
    if not isinstance(data, dict):
        return RepoContent(kind=None)
    kind, content = data.get("type"), data.get("content")
    return RepoContent(
        kind=kind if isinstance(kind, str) else "",
        sha=_opt_str(data.get("sha")),
        size=_opt_int(data.get("size")),
        content=content if isinstance(content, str) and data.get("encoding") == "base64" else None,
    )
