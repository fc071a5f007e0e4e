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

from collections.abc import Iterable, Set
from pathlib import Path

from steward.history.git import Tag, is_ancestor, iter_commits, merged_tags


def tags_on_line(repo: Path, head: str, tags: Iterable[Tag], version_paths: Set[str]) -> set[str]:
    """Names of ``tags`` on HEAD's line: one `for-each-ref --merged` walk, one `git log
    --no-walk` for the tags it leaves out, and one ancestry check per release bump among them.
    """
    tags = list(tags)
    merged = merged_tags(repo, head)
    on_line = {t.name for t in tags if t.name in merged}
    rest = [t for t in tags if t.name not in merged]
    if not rest:
        return on_line
    commits = {
        c.sha: c
        for c in iter_commits(repo, sorted({t.sha for t in rest}), no_walk=True, files=True)
    }
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
            on_line.add(tag.name)
    return on_line
