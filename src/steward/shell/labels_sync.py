"""Sync the label taxonomy to a repository: create, update, rename via `from`, prune."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from steward.config.labels import LabelSpec
from steward.github.records import Label
from steward.github.repo_api import RepoApi


@dataclass(frozen=True, slots=True)
class LabelChange:
    op: Literal["create", "update", "rename", "delete"]
    name: str
    color: str = ""
    description: str = ""
    current: str | None = None

    def describe(self) -> str:
        if self.op == "rename":
            return f"rename {self.current!r} -> {self.name!r}"
        if self.op == "delete":
            return f"delete {self.name!r}"
        return f"{self.op} {self.name!r} (#{self.color}, {self.description!r})"


def plan_sync(wanted: list[LabelSpec], existing: list[Label], *, prune: bool) -> list[LabelChange]:
    """Pure: the changes that make ``existing`` match ``wanted`` (names compare case-blind,
    as GitHub's do). Existing labels without a name (the description allows them) are left
    alone: they cannot be matched, renamed or deleted by name."""
    have: dict[str, Label] = {}
    for lbl in existing:
        if lbl.name:
            have.setdefault(lbl.name.casefold(), lbl)
    claimed: set[str] = set()
    changes: list[LabelChange] = []
    for spec in wanted:
        key = spec.name.casefold()
        cur = have.get(key)
        if cur is None:
            old = next(
                (
                    have[f.casefold()]
                    for f in spec.from_
                    if f.casefold() in have and f.casefold() not in claimed
                ),
                None,
            )
            if old is not None:
                claimed.add(old.name.casefold())
                changes.append(
                    LabelChange("rename", spec.name, spec.color, spec.description, current=old.name)
                )
            else:
                changes.append(LabelChange("create", spec.name, spec.color, spec.description))
            continue
        claimed.add(key)
        if (
            cur.color.lower() != spec.color
            or (cur.description or "") != spec.description
            or cur.name != spec.name
        ):
            changes.append(
                LabelChange("update", spec.name, spec.color, spec.description, current=cur.name)
            )
    if prune:
        changes.extend(
            LabelChange("delete", lbl.name)
            for key, lbl in sorted(have.items())
            if key not in claimed
        )
    return changes


def apply_sync(api: RepoApi, changes: list[LabelChange]) -> None:
    for c in changes:
        if c.op == "create":
            api.create_label(c.name, c.color, c.description)
        elif c.op in {"update", "rename"}:
            api.update_label(
                c.current or c.name, new_name=c.name, color=c.color, description=c.description
            )
        else:
            api.delete_label(c.name)
