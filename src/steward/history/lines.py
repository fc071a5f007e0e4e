"""Which tagged commits are on HEAD's line of history.

"Reachable from HEAD" alone is wrong for the playbook's own release pattern: the release run
commits the version bump, tags that commit, and the bump reaches the trunk later through a
PR, so the tag is not an ancestor of the trunk. A tag is on HEAD's line when its commit is an
ancestor of HEAD, or when its commit is a release bump (one parent, and every line it changes
only swaps a version string for the tagged version: see `steward.history.bumps`) whose parent
is an ancestor of HEAD. A commit that changes code (the `feat!` tagged v2.0.0 on the trunk,
seen from a v1.x branch) is not a bump, whatever its parent. Every tag left off the line
keeps the reason, for the one notice a run prints about them.

Three git processes at most, whatever the number of tags: one `rev-list` answers which
tagged commits (and which of their ancestors) HEAD does not reach, one `log -p` reads the
changes of the tagged commits it does not reach, and a bump's parent is on the line exactly
when the first answer leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path

from steward.history.bumps import bump_problem
from steward.history.git import git, is_ancestor, iter_patches, unreachable_from
from steward.history.records import Tag

# Past this many new commits since the cached HEAD, the whole walk is as cheap.
_EXTEND_LIMIT = 50_000


@dataclass(slots=True)
class LineState:
    """What was found for one HEAD: the tags on its line, the release bumps off it with
    their parents (they join the line when HEAD comes to contain the parent), and why each
    tag off the line is off it."""

    head: str
    on_line: set[str] = field(default_factory=set)
    bumps: dict[str, str] = field(default_factory=dict)  # tag name -> the bump's parent
    off_line: dict[str, str] = field(default_factory=dict)  # tag name -> why


def tags_on_line(
    repo: Path,
    head: str,
    tags: Iterable[Tag],
    versions: Mapping[str, Sequence[str]],
    free: Set[str],
) -> LineState:
    """The tags of ``tags`` on HEAD's line; ``versions`` maps each tag's name to the
    spellings of its version a bump may write, ``free`` names the files a bump may change
    in any way (the changelog, configured version files)."""
    tags = list(tags)
    state = LineState(head)
    if not tags:
        return state
    off = unreachable_from(repo, {t.sha for t in tags}, head)
    rest = [t for t in tags if t.sha in off]
    state.on_line = {t.name for t in tags if t.sha not in off}
    if not rest:
        return state
    patches = {p.sha: p for p in iter_patches(repo, sorted({t.sha for t in rest}))}
    for tag in rest:
        patch = patches.get(tag.sha)
        short = tag.sha[:7]
        if patch is None:
            state.off_line[tag.name] = f"tagged commit {short} could not be read"
            continue
        problem = bump_problem(patch, versions.get(tag.name, ()), free)
        if problem is not None:
            state.off_line[tag.name] = f"tagged commit {short} {problem}"
        elif patch.parents[0] in off:
            state.bumps[tag.name] = patch.parents[0]
            state.off_line[tag.name] = (
                f"tagged commit {short} is a version bump whose parent is not on this "
                "branch's history"
            )
        else:
            state.on_line.add(tag.name)
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
    state = LineState(head, set(known.on_line), dict(known.bumps), dict(known.off_line))
    for name, tag in tags.items():
        if name in state.on_line:
            continue
        if tag.sha in new or state.bumps.get(name) in new:
            state.on_line.add(name)
            state.bumps.pop(name, None)
            state.off_line.pop(name, None)
    return state
