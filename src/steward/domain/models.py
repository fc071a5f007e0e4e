"""Plain records the policies reason about; built from GitHub payloads by `domain.events`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# author_association values meaning "never contributed here before" (GitHub's enum).
FIRST_TIME_ASSOCIATIONS = frozenset({"FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR"})


@dataclass(frozen=True, slots=True)
class Repo:
    full_name: str
    html_url: str = ""

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class User:
    login: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    title: str
    body: str
    author: User
    labels: tuple[str, ...]
    state: str = "open"
    merged: bool = False
    draft: bool = False
    head_sha: str = ""
    base_ref: str = ""
    html_url: str = ""
    author_association: str = "NONE"
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None


@dataclass(frozen=True, slots=True)
class Issue:
    number: int
    title: str
    body: str
    author: User
    labels: tuple[str, ...]
    state: str = "open"
    html_url: str = ""
    author_association: str = "NONE"
    # Last activity (GitHub's `updated_at`), for the scheduled sweep; ``None`` if unknown.
    updated_at: datetime | None = None
    # When it was opened (GitHub's `created_at`): where the sweep's clock starts when no
    # person acted on it since; ``None`` if unknown.
    created_at: datetime | None = None
    # Comment count from a fresh API read (never from a payload, which is stale on a rerun);
    # 0 lets the executor skip listing comments when it looks for its markers.
    comments: int | None = None
    # The issues API lists pull requests too: this item is one (it carries `pull_request`).
    pull_request: bool = False


@dataclass(frozen=True, slots=True)
class Release:
    tag: str
    name: str
    html_url: str
    prerelease: bool = False
    draft: bool = False


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One entry of GitHub's "list pull request files" response."""

    filename: str
    additions: int
    deletions: int
    status: str = "modified"
    previous_filename: str | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """Who acted on an item and when, from its timeline: the sweep's fair clock.

    ``human``: the latest activity by a person (neither steward's own account nor a bot),
    ``None`` when the timeline holds none. ``labeled``: label name -> when it was last
    added, by anyone. ``markers``: the marker key of each comment steward itself posted ->
    when it was last posted (its own reminders). ``complete``: the whole timeline was read,
    so ``markers`` holds every marker steward posted (the executor need not list comments).
    """

    human: datetime | None = None
    labeled: Mapping[str, datetime] = field(default_factory=dict)
    markers: Mapping[str, datetime] = field(default_factory=dict)
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the shell read beyond the payload, so policies stay pure.

    ``files`` is ``None`` when the changed files were not read (then size and area policies
    plan nothing rather than guess). ``issues`` holds issues the event refers to (a merged
    PR's related issue), keyed by number; ``pending_release_issues`` the issues in any state
    that still carry ``pending-release`` (on a release). ``first_issues``: for an issue author
    the search was run for (casefolded login), the number of their oldest issue in the
    repository, ``None`` when the search found none yet (its index lags behind a new issue);
    an author missing from it was not searched for. ``pulls``: the pull requests a merge
    group holds, read fresh, by number.
    """

    files: tuple[ChangedFile, ...] | None = None
    issues: dict[int, Issue] = field(default_factory=dict)
    pending_release_issues: tuple[Issue, ...] | None = None
    first_issues: Mapping[str, int | None] = field(default_factory=dict)
    pulls: Mapping[int, PullRequest] = field(default_factory=dict)
