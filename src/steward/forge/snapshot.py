"""Read what the policies need beyond the payload, and no more.

Each policy says what it needs read (`Policy.reads`); only the enabled policies that handle
the event are asked, so an event no policy reads for costs no API call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.domain.events import Event, PullRequestEvent
from steward.domain.models import ChangedFile, Issue, Snapshot
from steward.errors import NotFoundError
from steward.policies import registry
from steward.policies.common import related_issues
from steward.policies.policy import ChangedFiles, LabelledIssues, NamedIssues, Read

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.forge.repo_api import RepoApi


def needed(event: Event, config: StewardConfig) -> list[Read]:
    """What the enabled policies that handle ``event`` need read, in registry order."""
    out: list[Read] = []
    for policy in registry.handling(event):
        section = policy.of(config)
        if section.enabled:
            out.extend(r for r in policy.reads(section) if r not in out)
    return out


def needs_files(event: Event, config: StewardConfig) -> bool:
    """Changed files are read when a policy wants them and the diff may have changed: not
    for a title or body edit."""
    if not isinstance(event, PullRequestEvent):
        return False
    if event.action == "edited" and not event.base_changed:
        return False
    return any(isinstance(r, ChangedFiles) for r in needed(event, config))


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
        # All states: an issue GitHub closed through "Fixes #N" still waits for its notice.
        found: dict[int, Issue] = {}
        for label in labels:
            for issue in api.issues_with_label(label, state="all"):
                found.setdefault(issue.number, issue)
        pending = tuple(found.values())
    return Snapshot(files=snap_files, issues=issues, pending_release_issues=pending)
