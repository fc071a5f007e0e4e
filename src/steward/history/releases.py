"""Which release each commit belongs to, in the same single pass that reads it (pure).

A release's commits are those reachable from its tag and not from an earlier release's tag
(`git log PREV..TAG`): release tags are often not on the trunk (the version bump is committed
on the release run and reaches the trunk later), so walking the trunk between tags is wrong.

With commits in topological order (children first), each commit gets the smallest rank among
the tags that reach it: its own tag's rank, or the smallest rank passed down by its children.
That is `PREV..TAG` for every release at once, with memory bounded by the width of the graph
(the commits whose children have been seen but which have not come yet), not its length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from steward.history.records import Commit

UNRELEASED = 1 << 30


def assign_releases(
    commits: Iterable[Commit], ranks: Mapping[str, int]
) -> Iterator[tuple[int, Commit]]:
    """Yield ``(rank, commit)`` for commits in topological order (children first).

    ``ranks`` maps a tag's commit sha to its release rank (0 = oldest release); commits no
    ranked sha reaches get `UNRELEASED`.
    """
    inherited: dict[str, int] = {}
    pop = inherited.pop
    get = inherited.get
    for commit in commits:
        sha = commit.sha
        rank = pop(sha, UNRELEASED)
        own = ranks.get(sha)
        if own is not None and own < rank:
            rank = own
        for parent in commit.parents:
            prev = get(parent)
            if prev is None or rank < prev:
                inherited[parent] = rank
        yield rank, commit
