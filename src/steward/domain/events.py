"""Parse a webhook payload (as GitHub sends it, or as Actions stores it) into a domain event.

Only the fields steward uses are read, each checked for its type, so a malformed payload is a
`PayloadError` naming the missing or mistyped field, never a KeyError or TypeError.
Unsupported events and actions are not errors: they become `Ignored` with a one-line reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steward import limits
from steward.domain.api import count, issue_from_api
from steward.domain.models import Issue, PullRequest, Release, Repo, User
from steward.domain.names import check_full_name
from steward.domain.refs import NUMBER, number
from steward.errors import InputError, PayloadError
from steward.text import MAX_BODY, MAX_TITLE, cap
from steward.workspace import Limit, read_bytes

PR_ACTIONS = frozenset(
    {"opened", "reopened", "edited", "synchronize", "labeled", "unlabeled", "closed"}
)
ISSUE_ACTIONS = frozenset({"opened", "labeled", "closed"})
RELEASE_ACTIONS = frozenset({"published"})
MERGE_GROUP_ACTIONS = frozenset({"checks_requested"})
# A merge group's head ref, as GitHub names it: the queue's base branch (which may hold
# slashes) and the pull request the group was made for, e.g.
# refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64.
_QUEUE_REF = re.compile(
    r"^refs/heads/gh-readonly-queue/(?P<base>[^\r\n]{1,255})"
    rf"/pr-(?P<num>{NUMBER})-[0-9a-f]{{7,64}}$"
)
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
MAX_PAYLOAD_BYTES = int(Limit.PAYLOAD)  # GitHub caps webhook payloads at 25 MB.


@dataclass(frozen=True, slots=True)
class PullRequestEvent:
    action: str
    repo: Repo
    sender: User
    pull_request: PullRequest
    label: str | None = None
    previous_title: str | None = None
    # An `edited` event that moved the PR to another base branch (its diff may change).
    base_changed: bool = False

    name = "pull_request"


@dataclass(frozen=True, slots=True)
class IssueEvent:
    action: str
    repo: Repo
    sender: User
    issue: Issue
    label: str | None = None

    name = "issues"


@dataclass(frozen=True, slots=True)
class ReleaseEvent:
    action: str
    repo: Repo
    sender: User
    release: Release

    name = "release"


@dataclass(frozen=True, slots=True)
class MergeGroupEvent:
    """A merge queue asks for the checks of a merge group (``checks_requested``).

    ``head_sha`` is the group's commit, where the required statuses must be reported;
    ``pull_number`` the pull request the group was made for, named by the group's head ref
    (``None`` when the ref does not have GitHub's documented form). A group also holds the
    pull requests ahead of it in the queue, but each of those has its own group, checked
    when it was made.
    """

    action: str
    repo: Repo
    sender: User
    head_sha: str
    head_ref: str
    base_ref: str
    pull_number: int | None

    name = "merge_group"


@dataclass(frozen=True, slots=True)
class Ignored:
    event_name: str
    action: str | None
    reason: str


Event = PullRequestEvent | IssueEvent | ReleaseEvent | MergeGroupEvent


def read_json(path: Path, what: str = "payload") -> Any:
    """Read a JSON input file (a payload, GitHub's files or issues list).

    Every way it can be unreadable (missing, not a regular file: a FIFO, /dev/zero; over
    GitHub's 25 MB payload cap, even when it grows while read; not UTF-8, not JSON, nested
    deeper than the JSON decoder can follow) is an `InputError` (exit 2) naming the file, and
    for JSON errors the line and column. It is read as `steward.workspace` reads every file.
    """
    raw = read_bytes(path, MAX_PAYLOAD_BYTES, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: {what} is not UTF-8: {exc.reason}") from None
    too_deep = f"{path}: {what} is nested deeper than {limits.MAX_JSON_DEPTH} levels"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}:{exc.lineno}:{exc.colno}: {what} is not valid JSON: {exc.msg}"
        ) from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise InputError(too_deep) from None
    if limits.json_too_deep(raw):
        raise InputError(too_deep)
    return data


def load_payload(path: Path) -> dict[str, Any]:
    """Read a webhook payload file: a JSON object."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise PayloadError(f"{path}: payload must be a JSON object")
    return data


def parse_event(event_name: str, payload: dict[str, Any]) -> Event | Ignored:
    """Turn ``(event name, payload)`` into an event the policies handle, or `Ignored`."""
    if not isinstance(payload, dict):
        raise PayloadError("payload must be a JSON object")
    action = payload.get("action")
    action = action if isinstance(action, str) else None
    if event_name in {"pull_request", "pull_request_target"}:
        if action not in PR_ACTIONS:
            return Ignored(event_name, action, f"pull_request action {action!r} is not handled")
        pr_obj = _obj(payload, "pull_request")
        label = _label_name(payload) if action in {"labeled", "unlabeled"} else None
        previous_title: str | None = None
        base_changed = False
        changes = payload.get("changes")
        if action == "edited" and isinstance(changes, dict):
            title_change = changes.get("title")
            if isinstance(title_change, dict) and isinstance(title_change.get("from"), str):
                previous_title = cap(title_change["from"], MAX_TITLE)
            base_changed = "base" in changes
        return PullRequestEvent(
            action=action,
            repo=_repo(payload),
            sender=_user(_obj(payload, "sender"), "sender"),
            pull_request=_pull_request(pr_obj),
            label=label,
            previous_title=previous_title,
            base_changed=base_changed,
        )
    if event_name == "issues":
        if action not in ISSUE_ACTIONS:
            return Ignored(event_name, action, f"issues action {action!r} is not handled")
        issue_obj = _obj(payload, "issue")
        if "pull_request" in issue_obj:
            return Ignored(event_name, action, "issue event is for a pull request")
        return IssueEvent(
            action=action,
            repo=_repo(payload),
            sender=_user(_obj(payload, "sender"), "sender"),
            issue=_issue(issue_obj),
            label=_label_name(payload) if action == "labeled" else None,
        )
    if event_name == "release":
        if action not in RELEASE_ACTIONS:
            return Ignored(event_name, action, f"release action {action!r} is not handled")
        rel = _obj(payload, "release")
        return ReleaseEvent(
            action=action,
            repo=_repo(payload),
            sender=_user(_obj(payload, "sender"), "sender"),
            release=Release(
                tag=_str(rel, "tag_name", "release"),
                name=_opt_str(rel, "name") or _str(rel, "tag_name", "release"),
                html_url=_opt_str(rel, "html_url"),
                prerelease=bool(rel.get("prerelease", False)),
                draft=bool(rel.get("draft", False)),
            ),
        )
    if event_name == "merge_group":
        if action not in MERGE_GROUP_ACTIONS:
            return Ignored(event_name, action, f"merge_group action {action!r} is not handled")
        return _merge_group(payload, action)
    return Ignored(event_name, action, f"event {event_name!r} is not handled")


def queued_pull(head_ref: str) -> int | None:
    """The pull request a merge group's head ref names, or ``None`` if it names none."""
    m = _QUEUE_REF.match(head_ref) if len(head_ref) <= 400 else None
    return number(m.group("num")) if m is not None else None


def _merge_group(payload: dict[str, Any], action: str) -> MergeGroupEvent:
    where = "merge_group"
    group = _obj(payload, where)
    head_sha = _str(group, "head_sha", where)
    if not _SHA.match(head_sha):
        raise PayloadError(f"{where}.head_sha is not a commit SHA")
    head_ref = _str(group, "head_ref", where)
    return MergeGroupEvent(
        action=action,
        repo=_repo(payload),
        sender=_user(_obj(payload, "sender"), "sender"),
        head_sha=head_sha,
        head_ref=head_ref,
        base_ref=_str(group, "base_ref", where),
        pull_number=queued_pull(head_ref),
    )


def _obj(parent: dict[str, Any], key: str, where: str = "payload") -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{key} is missing or not an object")
    return value


def _str(parent: dict[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key} is missing or not a string")
    return value


def _opt_str(parent: dict[str, Any], key: str) -> str:
    value = parent.get(key)
    return value if isinstance(value, str) else ""


def _int(parent: dict[str, Any], key: str, where: str) -> int:
    value = parent.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"{where}.{key} is missing or not an integer")
    return value


def _opt_int(parent: dict[str, Any], key: str) -> int | None:
    value = parent.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_count(parent: dict[str, Any], key: str, where: str) -> int | None:
    """A line or file count; negative ones are 0 (with a warning), so no policy sees them."""
    value = _opt_int(parent, key)
    return None if value is None else count(value, f"{where}.{key}")


def _repo(payload: dict[str, Any]) -> Repo:
    """The repository, its OWNER/NAME checked against GitHub's rules: it goes into URLs."""
    repo = _obj(payload, "repository")
    name = check_full_name(_str(repo, "full_name", "repository"), "repository.full_name")
    return Repo(full_name=name, html_url=_opt_str(repo, "html_url"))


def _user(obj: dict[str, Any], where: str) -> User:
    login = _str(obj, "login", where)
    return User(login=login, is_bot=obj.get("type") == "Bot" or login.endswith("[bot]"))


def _labels(obj: dict[str, Any], where: str) -> tuple[str, ...]:
    raw = obj.get("labels", [])
    if not isinstance(raw, list):
        raise PayloadError(f"{where}.labels is not a list")
    names: list[str] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise PayloadError(f"{where}.labels[{i}].name is missing or not a string")
        names.append(item["name"])
    return tuple(names)


def _label_name(payload: dict[str, Any]) -> str | None:
    label = payload.get("label")
    if isinstance(label, dict) and isinstance(label.get("name"), str):
        return str(label["name"])
    return None


def pull_request_from(pr: Any) -> PullRequest:
    """A pull request object, as webhooks and the REST API (``GET .../pulls/{n}``) both send
    it; a field steward needs that is missing or mistyped is a `PayloadError`."""
    if not isinstance(pr, dict):
        raise PayloadError("pull_request is not an object")
    return _pull_request(pr)


def _pull_request(pr: dict[str, Any]) -> PullRequest:
    where = "pull_request"
    head = pr.get("head")
    base = pr.get("base")
    return PullRequest(
        number=_int(pr, "number", where),
        title=cap(_str(pr, "title", where), MAX_TITLE),
        body=cap(pr.get("body") if isinstance(pr.get("body"), str) else "", MAX_BODY),
        author=_user(_obj(pr, "user", where), f"{where}.user"),
        labels=_labels(pr, where),
        state=_opt_str(pr, "state") or "open",
        merged=bool(pr.get("merged")) or bool(pr.get("merged_at")),
        draft=bool(pr.get("draft", False)),
        head_sha=_opt_str(head, "sha") if isinstance(head, dict) else "",
        base_ref=_opt_str(base, "ref") if isinstance(base, dict) else "",
        html_url=_opt_str(pr, "html_url"),
        author_association=_opt_str(pr, "author_association") or "NONE",
        additions=_opt_count(pr, "additions", where),
        deletions=_opt_count(pr, "deletions", where),
        changed_files=_opt_count(pr, "changed_files", where),
    )


def _issue(obj: dict[str, Any]) -> Issue:
    where = "issue"
    return Issue(
        number=_int(obj, "number", where),
        title=cap(_str(obj, "title", where), MAX_TITLE),
        body=cap(obj.get("body") if isinstance(obj.get("body"), str) else "", MAX_BODY),
        author=_user(_obj(obj, "user", where), f"{where}.user"),
        labels=_labels(obj, where),
        state=_opt_str(obj, "state") or "open",
        html_url=_opt_str(obj, "html_url"),
        author_association=_opt_str(obj, "author_association") or "NONE",
        updated_at=_opt_time(obj, "updated_at", where),
        created_at=_opt_time(obj, "created_at", where),
    )


def _opt_time(parent: dict[str, Any], key: str, where: str) -> datetime | None:
    """An ISO 8601 timestamp such as GitHub's ``2019-05-15T15:20:18Z`` (UTC if no offset)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise PayloadError(f"{where}.{key} is not a timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"{where}.{key} is not a timestamp: {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


__all__ = [
    "Event",
    "Ignored",
    "IssueEvent",
    "MergeGroupEvent",
    "PullRequestEvent",
    "ReleaseEvent",
    "issue_from_api",  # REST issues: `domain.api`, re-exported for existing callers
    "load_payload",
    "parse_event",
    "pull_request_from",
    "queued_pull",
    "read_json",
]
