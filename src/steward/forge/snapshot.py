"""Read what the policies need beyond the payload, and no more."""

from __future__ import annotations

from steward.config.model import StewardConfig
from steward.domain.events import Event, PullRequestEvent, ReleaseEvent
from steward.domain.models import ChangedFile, Issue, Snapshot
from steward.errors import NotFoundError
from steward.forge.repo_api import RepoApi
from steward.policies.common import related_issues

FILE_ACTIONS = frozenset({"opened", "reopened", "synchronize", "edited"})


def needs_files(event: Event, config: StewardConfig) -> bool:
    """Changed files are read when the diff may have changed: not for a title or body edit."""
    if not isinstance(event, PullRequestEvent) or event.action not in FILE_ACTIONS:
        return False
    if event.action == "edited" and not event.base_changed:
        return False
    return config.size.enabled or config.areas.enabled


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
    if snap_files is None and api is not None and needs_files(event, config):
        snap_files = tuple(api.pr_files(event.pull_request.number))  # type: ignore[union-attr]
    if (
        api is not None
        and isinstance(event, PullRequestEvent)
        and event.action == "closed"
        and event.pull_request.merged
        and config.pending_release.enabled
    ):
        for n in related_issues(event.pull_request.body, event.repo.full_name):
            try:
                issues[n] = api.issue(n)
            except NotFoundError:
                continue
    if isinstance(event, ReleaseEvent) and config.post_release.enabled and api is not None:
        # All states: an issue GitHub closed through "Fixes #N" still waits for its notice.
        pending = tuple(api.issues_with_label(config.post_release.label, state="all"))
    return Snapshot(files=snap_files, issues=issues, pending_release_issues=pending)
