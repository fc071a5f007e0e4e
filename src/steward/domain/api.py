"""Records from GitHub's REST responses, normalised at the edge.

Webhook payloads (`domain.events`) are parsed strictly against the webhook schemas. REST
responses follow GitHub's OpenAPI description, which allows more than the webhooks do and
more than the examples show: an issue's ``user`` may be ``null`` (a deleted account,
``nullable-simple-user``), labels may be plain strings or objects without a ``name``, and
integers carry no minimum. Such values are normalised here, once, with a warning where
something is dropped or changed, so nothing downstream ever sees them:

- a null or missing user is GitHub's ``ghost`` (how GitHub shows deleted accounts);
- a string label is its name; a label without a string name is skipped;
- negative line counts are 0; an unreadable ``updated_at`` is unknown (``None``).

An item that is not what the description promises at all (no number, not an object) is a
`PayloadError`; callers reading lists skip it with a warning naming it (`parse_items`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from steward.domain.models import ChangedFile, Issue, User
from steward.errors import PayloadError
from steward.text import MAX_BODY, MAX_TITLE, cap

log = logging.getLogger(__name__)

GHOST = "ghost"  # GitHub's stand-in for a deleted account
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IssueComment:
    """What steward needs of a comment: its body and who wrote it (``None``: deleted)."""

    body: str
    author: str | None
    author_is_bot: bool = False


def user_from_api(obj: Any) -> User:
    """A ``simple-user`` or ``nullable-simple-user``: ``null`` is GitHub's ``ghost``."""
    if not isinstance(obj, dict) or not isinstance(obj.get("login"), str) or not obj["login"]:
        return User(login=GHOST)
    login = str(obj["login"])
    return User(login=login, is_bot=obj.get("type") == "Bot" or login.endswith("[bot]"))


def label_names(raw: Any, where: str) -> tuple[str, ...]:
    """Label names from an issue's ``labels``: strings or objects with a ``name``; other
    entries are skipped with a warning."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PayloadError(f"{where}.labels is not a list")
    names: list[str] = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            name: Any = item
        elif isinstance(item, dict):
            name = item.get("name")
        else:
            name = None
        if not isinstance(name, str) or not name:
            log.warning("%s.labels[%d] has no name; ignored", where, i)
            continue
        if name not in names:
            names.append(name)
    return tuple(names)


def _int(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"{where}.{key} is missing or not an integer")
    return value


def _str(obj: dict[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else default


def _time(obj: dict[str, Any], key: str, where: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    log.warning("%s.%s is not a timestamp (%.40r); treated as unknown", where, key, value)
    return None


def issue_from_api(obj: Any) -> Issue:
    """An issue (or PR, as the issues API lists them) from the REST API, with its comment
    count, which only a fresh read may be trusted for."""
    if not isinstance(obj, dict):
        raise PayloadError("issue is not an object")
    number = _int(obj, "number", "issue")
    where = f"issue #{number}"
    title = obj.get("title")
    if not isinstance(title, str):
        raise PayloadError(f"{where}: title is missing or not a string")
    comments = obj.get("comments")
    count = comments if isinstance(comments, int) and not isinstance(comments, bool) else None
    return Issue(
        number=number,
        title=cap(title, MAX_TITLE),
        body=cap(_str(obj, "body"), MAX_BODY),
        author=user_from_api(obj.get("user")),
        labels=label_names(obj.get("labels"), where),
        state=_str(obj, "state") or "open",
        html_url=_str(obj, "html_url"),
        author_association=_str(obj, "author_association") or "NONE",
        updated_at=_time(obj, "updated_at", where),
        comments=count if count is None or count >= 0 else None,
        pull_request=is_pull_request(obj),
    )


def is_pull_request(obj: Any) -> bool:
    """Whether an item of the issues API is a pull request (it carries ``pull_request``)."""
    return isinstance(obj, dict) and obj.get("pull_request") is not None


def comment_from_api(obj: Any) -> IssueComment:
    if not isinstance(obj, dict):
        raise PayloadError("comment is not an object")
    user = obj.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("login"), str):
        return IssueComment(body=_str(obj, "body"), author=None)
    return IssueComment(
        body=_str(obj, "body"),
        author=str(user["login"]),
        author_is_bot=user.get("type") == "Bot",
    )


def count(value: Any, where: str) -> int:
    """A line count from GitHub: an integer, clamped at 0 with a warning when negative."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"{where} must be an integer")
    if value < 0:
        log.warning("%s is %d; counted as 0", where, value)
        return 0
    return value


def file_from_api(f: Any, where: str = "changed file") -> ChangedFile:
    """One entry of GitHub's "list pull request files" response (``diff-entry``)."""
    if not isinstance(f, dict) or not isinstance(f.get("filename"), str):
        raise PayloadError(f"{where}.filename is missing or not a string")
    adds, dels = f.get("additions"), f.get("deletions")
    if (
        not isinstance(adds, int)
        or not isinstance(dels, int)
        or isinstance(adds, bool)
        or isinstance(dels, bool)
    ):
        raise PayloadError(f"{where}: additions/deletions must be integers")
    name = f["filename"]
    prev = f.get("previous_filename")
    status = f.get("status")
    return ChangedFile(
        filename=name,
        additions=count(adds, f"changed file {name!r}: additions"),
        deletions=count(dels, f"changed file {name!r}: deletions"),
        status=status if isinstance(status, str) and status else "modified",
        previous_filename=prev if isinstance(prev, str) else None,
    )


def files_from_api(items: list[Any]) -> list[ChangedFile]:
    """Parse GitHub's "list pull request files" response (also what `--files` reads).

    A file without a name or with non-integer counts is an error (the description requires
    both); a negative count is 0, with a warning naming the file.
    """
    if not isinstance(items, list):
        raise PayloadError("changed files must be a JSON list (GitHub's list-files response)")
    return [file_from_api(f, f"changed files[{i}]") for i, f in enumerate(items)]


def parse_items(
    items: Iterable[Any],
    parse: Callable[[Any], T],
    what: str,
    *,
    key: Callable[[T], object] | None = None,
) -> list[T]:
    """Parse every item of a listing, skipping (with a warning naming it) any item that is
    not what GitHub documents, and keeping one item per ``key`` (the later read, in the
    first one's place): a listing that shifts while it is paged serves an item twice."""
    out: list[T] = []
    where: dict[object, int] = {}
    for i, raw in enumerate(items):
        try:
            item = parse(raw)
        except PayloadError as exc:
            log.warning("%s item %d skipped: %s", what, i, exc)
            continue
        if key is None:
            out.append(item)
            continue
        k = key(item)
        if k in where:
            out[where[k]] = item
        else:
            where[k] = len(out)
            out.append(item)
    return out
