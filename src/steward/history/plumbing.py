"""The git writes a release makes: a commit of one file through a temporary index, an
annotated tag object, refs created or deleted, fetches and pushes.

Every object is built with plumbing from inputs the caller records (a parent commit, file
content, a message, a `Signature` whose dates are the release's epoch), so running it again
makes byte-identical objects with the same ids. The worktree, the repository's own index and
the current branch are never touched: a release runs in a checkout someone may be using.
Reads live in `steward.history.git`, which runs every git process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steward.history.git import git, tree_entry, tree_of

# The mode of a new regular file; a file that exists keeps its own (see `commit_file`).
REGULAR_FILE = "100644"


@dataclass(frozen=True, slots=True)
class Signature:
    """Who makes a commit or a tag, and when: the same for author and committer (tagger),
    with the date fixed at ``epoch`` so the object's id depends on recorded inputs only."""

    name: str
    email: str
    epoch: int

    @property
    def date(self) -> str:
        return f"{self.epoch} +0000"

    def env(self) -> dict[str, str]:
        """The variables `git commit-tree` takes author and committer from."""
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_AUTHOR_DATE": self.date,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
            "GIT_COMMITTER_DATE": self.date,
        }


def commit_file(
    root: Path,
    parent: str,
    path: str,
    content: bytes | Path,
    *,
    message: str,
    signature: Signature,
    index: Path,
    mode: str | None = None,
    parent_if_unchanged: bool = False,
) -> str:
    """A commit on ``parent`` whose tree is ``parent``'s with ``path`` holding ``content``.

    Built through the temporary index file ``index`` (deleted once the tree is written), so
    the repository's index and worktree are not touched. ``content`` is the bytes, or a file
    on disk for git to hash itself. ``mode`` is the file's mode; None keeps the mode
    ``parent`` has for ``path`` (`REGULAR_FILE` for a new path), at the cost of one more git
    process. With ``parent_if_unchanged`` the trees are compared first (one more process)
    and ``parent`` itself is returned when ``path`` already held ``content``: no empty commit.
    """
    env = {"GIT_INDEX_FILE": str(index)}
    index.parent.mkdir(parents=True, exist_ok=True)
    git(root, "read-tree", parent, env=env)
    if isinstance(content, Path):
        blob = git(root, "hash-object", "-w", "--", str(content))
    else:
        blob = git(root, "hash-object", "-w", "--stdin", stdin=content)
    if mode is None:
        entry = tree_entry(root, parent, path)
        mode = entry.mode if entry is not None else REGULAR_FILE
    git(root, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env)
    tree = git(root, "write-tree", env=env)
    index.unlink()
    if parent_if_unchanged and tree == tree_of(root, parent):
        return parent
    return git(root, "commit-tree", tree, "-p", parent, "-m", message, env=signature.env())


def _tag_body(commit: str, name: str, tagger: Signature, message: str) -> bytes:
    return (
        f"object {commit}\ntype commit\ntag {name}\n"
        f"tagger {tagger.name} <{tagger.email}> {tagger.date}\n\n{message}\n"
    ).encode()


def write_tag(root: Path, commit: str, name: str, tagger: Signature, message: str) -> str:
    """The annotated tag object ``name`` on ``commit``, written to the object store (no
    ref: `create_ref` points one at it); its id depends on the arguments alone."""
    return git(root, "mktag", stdin=_tag_body(commit, name, tagger, message))


def tag_id(root: Path, commit: str, name: str, tagger: Signature, message: str) -> str:
    """The id `write_tag` gives these arguments, computed without writing anything: tells
    whether an existing tag is the very one a release makes."""
    body = _tag_body(commit, name, tagger, message)
    return git(root, "hash-object", "-t", "tag", "--stdin", stdin=body)


def create_ref(root: Path, ref: str, sha: str) -> None:
    """Point the new ref ``ref`` at ``sha``; `GitError` when ``ref`` already exists (git
    checks that itself, so a ref made meanwhile is never overwritten)."""
    git(root, "update-ref", ref, sha, "")


def delete_ref(root: Path, ref: str) -> None:
    """Delete the local ref ``ref``."""
    git(root, "update-ref", "-d", ref)


def fetch_ref(root: Path, remote: str, refspec: str) -> None:
    """Fetch ``refspec`` from ``remote`` (its objects, and the local ref a ``SRC:DST``
    refspec names), quietly and without tags."""
    git(root, "fetch", "--quiet", "--no-tags", remote, refspec)


def push_ref(root: Path, remote: str, sha: str, ref: str) -> None:
    """Create or fast-forward ``ref`` on ``remote`` at ``sha`` (local hooks skipped: steward
    checked what it pushes; the remote's own hooks still run)."""
    git(root, "push", "--no-verify", remote, f"{sha}:{ref}")


def push_with_lease(root: Path, remote: str, sha: str, ref: str, expected: str | None) -> None:
    """Set ``ref`` on ``remote`` to ``sha``, even over a commit it does not descend from,
    but only while the remote still has ``ref`` at ``expected`` (None: has no ``ref``): a
    branch steward owns is replaced, a push made by someone meanwhile is not."""
    lease = f"--force-with-lease={ref}:{expected or ''}"
    git(root, "push", "--quiet", "--no-verify", lease, remote, f"{sha}:{ref}")
