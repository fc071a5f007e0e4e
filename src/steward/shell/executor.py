"""Apply a Plan to GitHub with the fewest calls, and nothing at all when already applied.

Per target the executor reads the current state once (labels and state; comments only when
the plan comments; statuses only when it sets one) and writes only the difference: one call
for all missing labels, a comment only if none of steward's own comments carries its marker
(a marker typed by anyone else does not count: see `shell.identity`), a status only if the
context's state or description differs, a close only for an open issue. An issue the plan
closes gets its label changes in the same call: one ``PATCH`` with ``state`` and ``labels``
(the whole new set, from the labels just read), so closing a pending-release issue is that
PATCH plus its comment, not three calls.

One action on one item never stops the others: an item GitHub no longer has, or answers
with data steward cannot read, is skipped with the reason.

`handle_event` is the one path from an event to GitHub: read the snapshot, decide, and apply
with one executor that knows the issues already read. `steward handle` and the release
pipeline's post-release stage both take it, so a release is announced the same way from a
`release: published` event and from the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from steward.domain.api import IssueComment
from steward.domain.events import Event
from steward.domain.models import ChangedFile, Issue, Snapshot
from steward.engine import Decision, decide
from steward.errors import NotFoundError, PayloadError
from steward.github.repo_api import RepoApi
from steward.plan import (
    Action,
    AddLabels,
    CloseIssue,
    Comment,
    Plan,
    RemoveLabel,
    SetStatus,
)
from steward.shell.identity import Identity, comment_markers, identity_for
from steward.shell.snapshot import gather, known_issues

if TYPE_CHECKING:
    from steward.config.model import StewardConfig

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Executor:
    """Applies plans; ``known`` holds issues already read in this run (the snapshot's), so
    they are not read a second time (a release with 20 pending issues saves 20 reads).

    ``identity`` is steward's account (a login, or an `Identity`); by default the CLI's
    (`shell.identity.default_identity`), resolved only if a marker needs checking.
    ``markers``: per item, the marker keys of every comment steward posted there, when a
    complete read already told them (the sweep's timelines), so its comments are not listed.
    """

    def __init__(
        self,
        api: RepoApi,
        known: Mapping[int, Issue] | None = None,
        identity: Identity | str | None = None,
        markers: Mapping[int, Collection[str]] | None = None,
    ) -> None:
        self.api = api
        self._issues: dict[int, Issue] = dict(known or {})
        # per item: the comments that carry any marker, and the keys posted in this run
        self._marked: dict[int, list[tuple[set[str], IssueComment]]] = {}
        self._known_markers = {n: frozenset(keys) for n, keys in (markers or {}).items()}
        self._posted: dict[int, set[str]] = {}
        self._statuses: dict[str, dict[str, tuple[str, str]]] = {}
        self.identity = identity_for(identity, api.authenticated_login)
        # per issue the plan closes: its label changes, sent with the close
        self._folded: dict[int, list[AddLabels | RemoveLabel]] = {}

    def _issue(self, n: int) -> Issue:
        if n not in self._issues:
            self._issues[n] = self.api.issue(n)
        return self._issues[n]

    def _has_marker(self, n: int, key: str) -> bool:
        """Whether steward already posted comment ``key`` on ``n`` (its own comments only)."""
        if key in self._posted.get(n, set()):
            return True
        if n in self._known_markers:
            return key in self._known_markers[n]
        if n not in self._marked:
            known = self._issues.get(n)
            if known is not None and known.comments == 0:
                self._marked[n] = []  # a fresh read said it has no comments at all
            else:
                self._marked[n] = [
                    (keys, c) for c in self.api.comments(n) if (keys := comment_markers(c.body))
                ]
        return any(key in keys and self.identity.wrote(c) for keys, c in self._marked[n])

    def apply(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        closing = {a.number for a in plan.actions if isinstance(a, CloseIssue)}
        self._folded = {}
        for action in plan.actions:
            if action.number in closing and isinstance(action, AddLabels | RemoveLabel):
                self._folded.setdefault(action.number, []).append(action)
        for action in plan.actions:
            folded = action.number in self._folded and isinstance(action, AddLabels | RemoveLabel)
            try:
                if folded:
                    self._issue(action.number)  # read now, applied with the close
                else:
                    self._apply_one(action, result)
            except NotFoundError as exc:
                result.skipped.append(f"#{action.number}: {exc}")
            except PayloadError as exc:
                log.warning("#%d: %s; %s skipped", action.number, exc, action.kind)
                result.skipped.append(f"#{action.number}: {action.kind} skipped: {exc}")
        return result

    def _apply_one(self, a: Action, result: ApplyResult) -> None:
        api = self.api
        if isinstance(a, AddLabels):
            have = set(self._issue(a.number).labels)
            missing = [lbl for lbl in a.labels if lbl not in have]
            if missing:
                api.add_labels(a.number, missing)
                result.applied.append(f"#{a.number} +labels {', '.join(missing)}")
            else:
                result.skipped.append(f"#{a.number} labels already present")
        elif isinstance(a, RemoveLabel):
            if a.label in self._issue(a.number).labels:
                api.remove_label(a.number, a.label)
                result.applied.append(f"#{a.number} -label {a.label}")
            else:
                result.skipped.append(f"#{a.number} label {a.label} already absent")
        elif isinstance(a, SetStatus):
            if a.sha not in self._statuses:
                self._statuses[a.sha] = api.combined_status(a.sha)
            if self._statuses[a.sha].get(a.context) == (a.state, a.description[:140]):
                result.skipped.append(f"#{a.number} status {a.context} unchanged")
            else:
                api.set_status(a.sha, a.state, a.context, a.description)
                self._statuses[a.sha][a.context] = (a.state, a.description[:140])
                result.applied.append(f"#{a.number} status {a.context}={a.state}")
        elif isinstance(a, Comment):
            if self._has_marker(a.number, a.key):
                result.skipped.append(f"#{a.number} comment [{a.key}] already posted")
            else:
                api.comment(a.number, a.full_body)
                self._posted.setdefault(a.number, set()).add(a.key)
                result.applied.append(f"#{a.number} comment [{a.key}]")
        elif isinstance(a, CloseIssue):
            edits = self._folded.pop(a.number, [])
            issue = self._issue(a.number)
            if issue.state != "open":
                for edit in edits:  # closed already: the label changes on their own
                    self._apply_one(edit, result)
                result.skipped.append(f"#{a.number} already closed")
                return
            labels, done = _edited(list(issue.labels), edits)
            if done:
                api.close_issue(a.number, a.reason, labels=labels)
            else:
                api.close_issue(a.number, a.reason)
            result.applied += [*done, f"#{a.number} closed"]


def _edited(labels: list[str], edits: list[AddLabels | RemoveLabel]) -> tuple[list[str], list[str]]:
    """The labels after ``edits``, and what changed (empty: nothing)."""
    done = []
    for edit in edits:
        if isinstance(edit, AddLabels):
            missing = [lbl for lbl in edit.labels if lbl not in labels]
            if missing:
                labels += missing
                done.append(f"#{edit.number} +labels {', '.join(missing)}")
        elif edit.label in labels:
            labels = [lbl for lbl in labels if lbl != edit.label]
            done.append(f"#{edit.number} -label {edit.label}")
    return labels, done


@dataclass(frozen=True, slots=True)
class Handled:
    """One event through `handle_event`: what was read, decided and (unless not) applied."""

    snapshot: Snapshot
    decision: Decision
    result: ApplyResult | None  # None: not applied (a dry run, or offline)


def handle_event(
    event: Event,
    config: StewardConfig,
    api: RepoApi | None,
    files: list[ChangedFile] | None = None,
    *,
    dry_run: bool = False,
    identity: Identity | str | None = None,
) -> Handled:
    """Read what the policies need (`snapshot.gather`), decide (`engine.decide`) and, unless
    ``dry_run`` or offline (``api=None``), apply the plan with one `Executor` that knows the
    issues the snapshot read (on a release: every pending-release issue, in any state, so
    none is read twice).
    """
    snapshot = gather(event, config, api, files)
    decision = decide(event, snapshot, config)
    if api is None or dry_run:
        return Handled(snapshot, decision, None)
    result = Executor(api, known_issues(snapshot), identity).apply(decision.plan)
    return Handled(snapshot, decision, result)


__all__ = ["ApplyResult", "Executor", "Handled", "apply", "comment_markers", "handle_event"]


def apply(plan: Plan, api: RepoApi, identity: Identity | str | None = None) -> ApplyResult:
    return Executor(api, identity=identity).apply(plan)
