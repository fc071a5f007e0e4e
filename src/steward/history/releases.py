"""Which release each commit belongs to, in the same single pass that reads it.

A release's commits are those reachable from its tag and not from an earlier release's tag
(`git log PREV..TAG`): release tags are often not on the trunk (the version bump is committed
on the release run and reaches the trunk later), so walking the trunk between tags is wrong.

With commits in topological order (children first), each commit gets the smallest rank among
the tags that reach it: its own tag's rank, or the smallest rank passed down by its children.
That is `PREV..TAG` for every release at once, with memory bounded by the width of the graph
(the commits whose children have been seen but which have not come yet), not its length.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from steward.history.git import Commit, iter_records
from steward.history.progress import Progress

UNRELEASED = 1 << 30


def assign_records(
    repo: Path,
    ranks: Mapping[str, int],
    head: str | None,
    *,
    progress: Progress | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(rank, record)`` for every commit reachable from a ranked sha or ``head``.

    ``ranks`` maps a tag's commit sha to its release rank (0 = oldest release); commits only
    ``head`` reaches get `UNRELEASED`. Records are `iter_records`' raw field lists.
    """
    tips = list(ranks)
    if head is not None:
        tips.append(head)
    if not tips:
        return
    inherited: dict[str, int] = {}
    pop = inherited.pop
    get = inherited.get
    for rec in iter_records(repo, tips, topo=True, progress=progress):
        sha = rec[0]
        rank = pop(sha, UNRELEASED)
        own = ranks.get(sha)
        if own is not None and own < rank:
            rank = own
        for parent in rec[1].split():
            prev = get(parent)
            if prev is None or rank < prev:
                inherited[parent] = rank
        yield rank, rec


def assign_releases(
    repo: Path,
    ranks: Mapping[str, int],
    head: str | None,
    *,
    progress: Progress | None = None,
) -> Iterator[tuple[int, Commit]]:
    """`assign_records` with each record as a `Commit`."""
    for rank, rec in assign_records(repo, ranks, head, progress=progress):
        yield rank, Commit.from_record(rec)
