"""Read what the policies need beyond the payload, and no more.

Each policy says what it needs read (`Policy.reads`); only the enabled policies that handle
the event are asked, so an event no policy reads for costs no API call. What each read costs:

- changed files: the PR's file pages (not for a title or body edit);
- named issues: one read per issue a merged PR names;
- labelled issues: the label's issue pages, all states (one page for 100 issues);
- earlier issues: one search per author, only for an issue just opened by an author whose
  association leaves it open (``NONE``), never for a bot;
- queued pulls: one read of the pull request a merge group was made for.

The sweep's fair clock (`item_activity`) reads an item's timeline: one page, two for a long
one; `steward sweep` asks only for the items the policy names (`sweep.activity_wanted`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward.domain.events import Event, IssueEvent, MergeGroupEvent, PullRequestEvent
from steward.domain.models import Activity, ChangedFile, Issue, PullRequest, Snapshot
from steward.errors import GitHubError, NotFoundError, PayloadError
from steward.policies import registry
from steward.policies.common import related_issues
from steward.policies.policy import (
    ChangedFiles,
    EarlierIssues,
    LabelledIssues,
    NamedIssues,
    QueuedPulls,
    Read,
)
from steward.shell.identity import comment_markers

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.github.repo_api import RepoApi
    from steward.shell.identity import Identity

log = logging.getLogger(__name__)

# Timeline events that are side effects of other activity, not activity of their own.
_NOT_ACTIVITY = frozenset({"subscribed", "unsubscribed", "mentioned"})


def needed(event: Event, config: StewardConfig) -> list[Read]:
    """What the enabled policies that handle ``event`` need read, in registry order."""
    out: list[Read] = []
    for policy in registry.handling(event, config):
        out.extend(r for r in policy.reads(policy.of(config)) if r not in out)
    return out


def needs_files(event: Event, config: StewardConfig) -> bool:
    """Changed files are read when a policy wants them and the diff may have changed: not
    for a title or body edit."""
    if not isinstance(event, PullRequestEvent):
        return False
    if event.action == "edited" and not event.base_changed:
        return False
    return any(isinstance(r, ChangedFiles) for r in needed(event, config))


def pending_release(api: RepoApi, labels: Iterable[str]) -> tuple[Issue, ...]:
    """The pending-release query: issues in any state that still carry one of ``labels``.

    All states: an issue GitHub closed through "Fixes #N" at merge still waits for its
    release notice. The issues come with their labels, state and comment count, so the
    executor needs no further read of them.
    """
    found: dict[int, Issue] = {}
    for label in labels:
        for issue in api.issues_with_label(label, state="all"):
            found.setdefault(issue.number, issue)
    return tuple(found.values())


def gather(
    event: Event,
    config: StewardConfig,
    api: RepoApi | None,
    files: list[ChangedFile] | None = None,
) -> Snapshot:
    """Build the snapshot; with ``api=None`` (dry run offline) only given files are used."""
    snap_files: tuple[ChangedFile, ...] | None = tuple(files) if files is not None else None
    issues: dict[int, Issue] = {}
    pending: tuple[Issue, ...] | None = None
    reads = needed(event, config)
    if snap_files is None and api is not None and needs_files(event, config):
        assert isinstance(event, PullRequestEvent)
        snap_files = tuple(api.pr_files(event.pull_request.number))
    if (
        api is not None
        and isinstance(event, PullRequestEvent)
        and event.action == "closed"
        and event.pull_request.merged
        and any(isinstance(r, NamedIssues) for r in reads)
    ):
        for n in related_issues(event.pull_request.body, event.repo.full_name):
            try:
                issues[n] = api.issue(n)
            except NotFoundError:
                continue
    labels = [r.label for r in reads if isinstance(r, LabelledIssues)]
    if labels and api is not None:
        pending = pending_release(api, labels)
    return Snapshot(
        files=snap_files,
        issues=issues,
        pending_release_issues=pending,
        first_issues=_first_issues(event, reads, api),
        pulls=_queued_pulls(event, reads, api),
    )


def known_issues(snapshot: Snapshot) -> dict[int, Issue]:
    """The issues the snapshot read fresh, by number: the executor need not read them again."""
    known = dict(snapshot.issues)
    known.update((i.number, i) for i in snapshot.pending_release_issues or ())
    return known


def _first_issues(event: Event, reads: list[Read], api: RepoApi | None) -> dict[str, int | None]:
    """For an issue just opened by an author the search is for: their oldest issue here."""
    if api is None or not isinstance(event, IssueEvent) or event.action != "opened":
        return {}
    author = event.issue.author
    association = event.issue.author_association
    wanted = any(isinstance(r, EarlierIssues) and association in r.associations for r in reads)
    if not wanted or author.is_bot:
        return {}
    try:
        return {author.login.casefold(): api.first_issue_by(author.login)}
    except (GitHubError, PayloadError) as exc:
        log.warning("cannot tell whether %s opened issues before: %s", author.login, exc)
        return {}


def _queued_pulls(event: Event, reads: list[Read], api: RepoApi | None) -> dict[int, PullRequest]:
    """The pull request a merge group was made for (one GitHub would not give is left out:
    the policies report their statuses as ``error`` for it, rather than none at all)."""
    if api is None or not isinstance(event, MergeGroupEvent) or event.pull_number is None:
        return {}
    if not any(isinstance(r, QueuedPulls) for r in reads):
        return {}
    try:
        return {event.pull_number: api.pull(event.pull_number)}
    except (GitHubError, PayloadError) as exc:
        log.warning("merge group %s: pull request unreadable: %s", event.head_ref[:200], exc)
        return {}


# -- the sweep's fair clock ----------------------------------------------------------------


def item_activity(api: RepoApi, number: int, identity: Identity) -> Activity | None:
    """Who acted on item ``number`` and when, from its timeline (one read; two for a
    timeline over 100 events).

    ``None`` when it cannot be told: a long timeline whose newest page holds no person's
    activity (it may be in the pages between, which are not read).
    """
    events, complete = api.timeline(number)
    activity = activity_from_timeline(events, identity)
    if activity.human is None and not complete:
        return None
    return replace(activity, complete=complete)


def activity_from_timeline(events: Iterable[Any], identity: Identity) -> Activity:
    """The latest person's activity, label additions and steward's own marked comments in
    timeline ``events`` (GitHub's ``timeline-issue-events``; unreadable entries are skipped).
    """
    human: datetime | None = None
    labeled: dict[str, datetime] = {}
    markers: dict[str, datetime] = {}
    for raw in events:
        if not isinstance(raw, dict):
            continue
        kind = raw.get("event")
        when = _event_time(raw)
        if when is None or kind in _NOT_ACTIVITY:
            continue
        login, account_type = _actor(raw)
        if kind == "labeled":
            label = raw.get("label")
            name = label.get("name") if isinstance(label, dict) else None
            if isinstance(name, str) and name:
                labeled[name] = max(when, labeled.get(name, when))
        if kind == "commented" and identity.is_self(login):
            for key in comment_markers(str(raw.get("body") or "")):
                markers[key] = max(when, markers.get(key, when))
        if identity.is_person(login, account_type):
            human = when if human is None else max(human, when)
    return Activity(human=human, labeled=labeled, markers=markers)


def sweep_activity(
    api: RepoApi, numbers: Iterable[int], identity: Identity, limit: int
) -> tuple[dict[int, Activity], list[int]]:
    """`item_activity` for the first ``limit`` of ``numbers``; the rest are returned as not
    read (and so is an item whose timeline cannot be read or told)."""
    found: dict[int, Activity] = {}
    skipped: list[int] = []
    for i, number in enumerate(numbers):
        if i >= limit:
            skipped.append(number)
            continue
        try:
            activity = item_activity(api, number, identity)
        except (GitHubError, PayloadError) as exc:
            log.warning("#%d: timeline unreadable (%s); judged by its last activity", number, exc)
            activity = None
        if activity is None:
            skipped.append(number)
        else:
            found[number] = activity
    return found, skipped


def _actor(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Who did a timeline event: ``user`` (comments, reviews), else ``actor``; a commit's
    git author has no account, so its name stands in (``[bot]`` names are bots)."""
    for key in ("user", "actor"):
        who = raw.get(key)
        if isinstance(who, dict) and isinstance(who.get("login"), str):
            kind = who.get("type")
            return str(who["login"]), kind if isinstance(kind, str) else None
    author = raw.get("author")
    if raw.get("event") == "committed" and isinstance(author, dict):
        name = author.get("name")
        return (name if isinstance(name, str) and name else None), None
    return None, None


def _event_time(raw: Mapping[str, Any]) -> datetime | None:
    """When a timeline event happened: ``created_at``, a review's ``submitted_at``, a
    commit's committer date."""
    value = raw.get("created_at") or raw.get("submitted_at")
    if value is None and raw.get("event") == "committed":
        committer = raw.get("committer")
        value = committer.get("date") if isinstance(committer, dict) else None
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
