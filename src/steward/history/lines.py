"""Which tagged commits are on HEAD's line of history.

"Reachable from HEAD" alone is wrong for the playbook's own release pattern: the release run
commits the version bump, tags that commit, and the bump reaches the trunk later through a
PR, so the tag is not an ancestor of the trunk. A tag is on HEAD's line when its commit is an
ancestor of HEAD, or when its commit is a release bump (one parent, and it changes nothing
but the files where the version is written) whose parent is an ancestor of HEAD. A commit
that changes code (the `feat!` tagged v2.0.0 on the trunk, seen from a v1.x branch) is not a
bump, whatever its parent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path

from steward.history.git import Tag, git, is_ancestor, iter_commits, merged_tags

# Past this many new commits since the cached HEAD, the whole walk is as cheap.
_EXTEND_LIMIT = 50_000


@dataclass(slots=True)
class LineState:
    """What was found for one HEAD: the tags on its line, and the release bumps off it with
    their parents (they join the line when HEAD comes to contain the parent)."""

    head: str
    on_line: set[str] = field(default_factory=set)
    bumps: dict[str, str] = field(default_factory=dict)  # tag name -> the bump's parent


def tags_on_line(repo: Path, head: str, tags: Iterable[Tag], version_paths: Set[str]) -> LineState:
    """The tags of ``tags`` on HEAD's line: one `for-each-ref --merged` walk, one `git log
    --no-walk` for the tags it leaves out, and one ancestry check per release bump among them.
    """
    tags = list(tags)
    merged = merged_tags(repo, head)
    state = LineState(head, {t.name for t in tags if t.name in merged})
    rest = [t for t in tags if t.name not in merged]
    if not rest:
        return state
    shas = sorted({t.sha for t in rest})
    commits = {c.sha: c for c in iter_commits(repo, shas, no_walk=True, files=True)}
    parent_ok: dict[str, bool] = {}
    for tag in rest:
        commit = commits.get(tag.sha)
        if commit is None or len(commit.parents) != 1:
            continue
        if not set(commit.files) <= version_paths:
            continue
        parent = commit.parents[0]
        if parent not in parent_ok:
            parent_ok[parent] = is_ancestor(repo, parent, head)
        if parent_ok[parent]:
            state.on_line.add(tag.name)
        else:
            state.bumps[tag.name] = parent
    return state


def extend_line(
    repo: Path, known: LineState, head: str, tags: Mapping[str, Tag]
) -> LineState | None:
    """The line at ``head`` from the one found at an earlier HEAD it descends from, reading
    only the commits in between; ``None`` when ``head`` does not descend from it (or is far).

    A tag joins the line exactly when its commit, or a bump's parent, is among the new
    commits: everything else ``head`` reaches, the earlier HEAD reached already.
    """
    if head == known.head:
        return known
    if not is_ancestor(repo, known.head, head):
        return None
    out = git(repo, "rev-list", f"--max-count={_EXTEND_LIMIT + 1}", head, f"^{known.head}")
    new = set(out.split())
    if len(new) > _EXTEND_LIMIT:
        return None
    state = LineState(head, set(known.on_line), dict(known.bumps))
    for name, tag in tags.items():
        if name in state.on_line:
            continue
        if tag.sha in new:
            state.on_line.add(name)
            state.bumps.pop(name, None)
        elif state.bumps.get(name) in new:
            state.on_line.add(name)
            del state.bumps[name]
    return state
