"""Is a tagged commit a release bump? Read from what it changes, not from a list of files (pure).

The playbook's release workflow tags a `chore: version bump` commit made on the release run:
it turns `VERSION = "3.1.1a0"` into `VERSION = "3.2.0"` in `aws_lambda_powertools/shared/
version.py` and the same in `pyproject.toml`, and reaches the trunk later through a PR, so
the tag is not an ancestor of the trunk. Such a tag still belongs to the trunk's line when
the bump's parent does. A commit is a release bump when it has one parent and every line it
changes differs from the line it replaces only in one version string that becomes the
tagged version, whatever the file; the changelog steward itself writes may change freely
(a release commit may update it), and so may files the config names as version files.
Anything else (a code change, a new or deleted file, a binary, a mode change, an unpaired
line) makes it an ordinary commit, and the message says which file.

The input is `git log -p -U0` output (see `steward.history.git.iter_patches`): each record
starts with a NUL line carrying the commit and its parents. Parsing keeps at most
`MAX_LINES` changed lines per commit; past that the commit is not a bump (a bump is small).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

MAX_LINES = 400  # changed lines kept per commit; a bigger commit is no bump
_MAX_VERSION = 64  # characters of an old version string
_WORD = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


@dataclass(slots=True)
class FileChange:
    """One file of a patch: its hunks as (removed lines, added lines), or why it is no
    line-for-line change (``special``)."""

    path: str
    hunks: list[tuple[list[str], list[str]]] = field(default_factory=list)
    special: str | None = None


@dataclass(slots=True)
class CommitPatch:
    sha: str
    parents: tuple[str, ...]
    files: list[FileChange] = field(default_factory=list)
    too_big: bool = False


_SPECIAL = {
    "new file mode": "adds it",
    "deleted file mode": "deletes it",
    "old mode": "changes its mode",
    "Binary files": "changes a binary",
    "GIT binary patch": "changes a binary",
    "rename from": "renames it",
    "copy from": "copies it",
}


def _path(line: str, prefix: str) -> str | None:
    rest = line[len(prefix) :]
    if rest == "/dev/null":
        return None
    return rest[2:] if rest[:2] in {"a/", "b/"} else rest


def parse_patches(lines: Iterable[str]) -> Iterator[CommitPatch]:
    """`CommitPatch`es from the lines (without their newline) of `git log -p -U0` output
    whose format starts each record with ``\\0<sha> <parents>``."""
    patch: CommitPatch | None = None
    current: FileChange | None = None
    in_hunk = False
    count = 0
    for line in lines:
        if line.startswith("\0"):
            if patch is not None:
                yield patch
            sha, *parents = line[1:].split()
            patch, current, in_hunk, count = CommitPatch(sha, tuple(parents)), None, False, 0
            continue
        if patch is None or patch.too_big:
            continue
        if line.startswith("diff --git "):
            current = FileChange(line.rsplit(" b/", 1)[-1])
            patch.files.append(current)
            in_hunk = False
        elif current is None:
            continue
        elif line.startswith("@@"):
            in_hunk = True
            current.hunks.append(([], []))
        elif in_hunk and line[:1] in {"-", "+"}:
            count += 1
            if count > MAX_LINES:
                patch.too_big = True
                continue
            removed, added = current.hunks[-1]
            (removed if line[0] == "-" else added).append(line[1:])
        elif not in_hunk:
            if line.startswith("--- "):
                current.path = _path(line, "--- ") or current.path
            elif line.startswith("+++ "):
                current.path = _path(line, "+++ ") or current.path
            else:
                for head, why in _SPECIAL.items():
                    if line.startswith(head):
                        current.special = current.special or why
    if patch is not None:
        yield patch


def _versionish(text: str) -> bool:
    if not text or len(text) > _MAX_VERSION or text[0] not in "0123456789vV":
        return False
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def swaps_version(old: str, new: str, versions: Sequence[str]) -> bool:
    """True when ``new`` is ``old`` with one version string replaced by one of ``versions``
    (the tagged version as the tag writes it, or normalised), standing as a whole word."""
    for v in versions:
        start = new.find(v)
        while start >= 0:
            end = start + len(v)
            before = new[start - 1] if start else ""
            after = new[end] if end < len(new) else ""
            if before not in _WORD and before != "." and after not in _WORD:
                prefix, suffix = new[:start], new[end:]
                if (
                    len(old) > len(prefix) + len(suffix)
                    and old.startswith(prefix)
                    and old.endswith(suffix)
                ):
                    middle = old[len(prefix) : len(old) - len(suffix)]
                    if middle != v and _versionish(middle):
                        return True
            start = new.find(v, start + 1)
    return False


def bump_problem(patch: CommitPatch, versions: Sequence[str], free: Set[str]) -> str | None:
    """Why ``patch`` is not a release bump to one of ``versions`` (``None``: it is one);
    files in ``free`` (the changelog, configured version files) may change in any way."""
    if len(patch.parents) != 1:
        return "is a merge commit" if patch.parents else "has no parent"
    for f in patch.files:
        if f.path in free:
            continue
        if patch.too_big:
            return f"changes more than {MAX_LINES} lines"
        if f.special is not None:
            return f"changes {f.path} besides the version ({f.special})"
        for removed, added in f.hunks:
            if len(removed) != len(added) or not all(
                swaps_version(old, new, versions) for old, new in zip(removed, added, strict=True)
            ):
                return f"changes {f.path} besides the version"
    if patch.too_big:
        return f"changes more than {MAX_LINES} lines"
    return None
