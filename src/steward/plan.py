"""The Plan: what policies want done, merged so one event costs the fewest API calls.

Policies return Plans; `Plan.merge` folds them into one where each issue or PR gets at most one
`add_labels` (all labels in one call), a removal of a label that any policy adds is dropped,
comments are keyed by a hidden marker (so the executor can skip one already posted), and
statuses are keyed by context (the last policy to speak wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MARKER_PREFIX = "<!-- steward:"


def marker(key: str) -> str:
    """The hidden HTML comment that identifies a steward comment of kind ``key``."""
    return f"{MARKER_PREFIX}{key} -->"


@dataclass(frozen=True, slots=True)
class AddLabels:
    number: int
    labels: tuple[str, ...]
    kind: Literal["add_labels"] = "add_labels"


@dataclass(frozen=True, slots=True)
class RemoveLabel:
    number: int
    label: str
    kind: Literal["remove_label"] = "remove_label"


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment carrying a hidden marker; the executor posts it only if no comment has it."""

    number: int
    key: str
    body: str
    kind: Literal["comment"] = "comment"

    @property
    def full_body(self) -> str:
        return f"{self.body}\n\n{marker(self.key)}"


@dataclass(frozen=True, slots=True)
class SetStatus:
    number: int
    sha: str
    state: Literal["pending", "success", "failure", "error"]
    context: str
    description: str
    kind: Literal["set_status"] = "set_status"


@dataclass(frozen=True, slots=True)
class CloseIssue:
    number: int
    reason: Literal["completed", "not_planned"] = "completed"
    kind: Literal["close_issue"] = "close_issue"


Action = AddLabels | RemoveLabel | Comment | SetStatus | CloseIssue

# Order in which actions apply: added labels before comments (a comment may reference them),
# statuses after labels, removed labels after comments, closing last. A removed label can be
# the record that a comment is still owed (`pending-release` lists the issues to announce):
# taking it off first would lose the comment for good if posting it then failed.
_ORDER = {"add_labels": 0, "set_status": 1, "comment": 2, "remove_label": 3, "close_issue": 4}


@dataclass(slots=True)
class Plan:
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, action: Action) -> Plan:
        self.actions.append(action)
        return self

    def note(self, text: str) -> Plan:
        self.notes.append(text)
        return self

    @staticmethod
    def merge(plans: list[Plan]) -> Plan:
        """One plan from many: one label call per target, no cancelled or repeated writes."""
        adds: dict[int, list[str]] = {}
        removes: dict[tuple[int, str], RemoveLabel] = {}
        comments: dict[tuple[int, str], Comment] = {}
        statuses: dict[tuple[str, str], SetStatus] = {}
        closes: dict[int, CloseIssue] = {}
        notes: list[str] = []
        for plan in plans:
            notes.extend(plan.notes)
            for a in plan.actions:
                if isinstance(a, AddLabels):
                    bucket = adds.setdefault(a.number, [])
                    bucket.extend(lbl for lbl in a.labels if lbl not in bucket)
                elif isinstance(a, RemoveLabel):
                    removes[(a.number, a.label)] = a
                elif isinstance(a, Comment):
                    comments.setdefault((a.number, a.key), a)
                elif isinstance(a, SetStatus):
                    statuses[(a.sha, a.context)] = a
                else:
                    closes[a.number] = a
        actions: list[Action] = [AddLabels(n, tuple(ls)) for n, ls in adds.items() if ls]
        # An addition cancels a removal whatever the order: no policy takes away a label
        # another one wants.
        actions += [r for r in removes.values() if r.label not in adds.get(r.number, ())]
        actions += list(statuses.values())
        actions += list(comments.values())
        actions += list(closes.values())
        actions.sort(key=lambda a: _ORDER[a.kind])
        return Plan(actions=actions, notes=notes)

    def to_json(self) -> dict[str, Any]:
        """The documented machine form: ``{"actions": [{"kind", "number", ...}]}``."""
        out: list[dict[str, Any]] = []
        for a in self.actions:
            item: dict[str, Any] = {"kind": a.kind, "number": a.number}
            if isinstance(a, AddLabels):
                item["labels"] = list(a.labels)
            elif isinstance(a, RemoveLabel):
                item["label"] = a.label
            elif isinstance(a, Comment):
                item["body"] = a.full_body
                item["key"] = a.key
            elif isinstance(a, SetStatus):
                item.update(state=a.state, context=a.context, description=a.description, sha=a.sha)
            else:
                item["reason"] = a.reason
            out.append(item)
        return {"actions": out, "notes": list(self.notes)}

    def render(self) -> str:
        """Human-readable lines for `--dry-run`."""
        if not self.actions:
            return "nothing to do" + "".join(f"\n  note: {n}" for n in self.notes)
        lines: list[str] = []
        for a in self.actions:
            if isinstance(a, AddLabels):
                lines.append(f"#{a.number}: add labels {', '.join(a.labels)}")
            elif isinstance(a, RemoveLabel):
                lines.append(f"#{a.number}: remove label {a.label}")
            elif isinstance(a, Comment):
                first = a.body.strip().splitlines()[0] if a.body.strip() else ""
                lines.append(f"#{a.number}: comment [{a.key}] {first[:80]}")
            elif isinstance(a, SetStatus):
                lines.append(f"#{a.number}: status {a.context} = {a.state} ({a.description})")
            else:
                lines.append(f"#{a.number}: close ({a.reason})")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)
