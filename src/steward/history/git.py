"""Read git with one subprocess per question, parsing its machine format as it streams.

Commits come from a single `git log` whose records are separated by RS (0x1e) and fields by
NUL, read in chunks: memory stays flat however long the history is, and no commit costs a
subprocess of its own. Tags come from one `git for-each-ref`.
"""

from __future__ import annotations

import codecs
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from steward.conventional import Message, parse_message
from steward.errors import GitError
from steward.history.progress import Progress

_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%s%x00%b%x1e"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag, peeled to its commit; ``date`` is the tagger date (commit date if lightweight)."""

    name: str
    sha: str
    date: str  # ISO 8601 with offset


@dataclass(slots=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    date: str  # author date, ISO 8601 with offset
    subject: str
    body: str

    @classmethod
    def from_record(cls, f: list[str]) -> Commit:
        return cls(f[0], tuple(f[1].split()), f[2], f[3], f[4], f[5], f[6].strip())

    @property
    def message(self) -> Message:
        """The conventional parse of subject and body (trailers, breaking notes, PR, ...).

        Parsed on each access (no cache, so a commit stays small): keep the result."""
        return parse_message(self.subject, self.body)

    @property
    def trailers(self) -> tuple[tuple[str, str], ...]:
        return self.message.footers


def _git(repo: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} in {repo}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout


def ensure_repo(repo: Path) -> None:
    """Fail clearly when ``repo`` is not a git work tree."""
    if not repo.is_dir():
        raise GitError(f"{repo}: no such directory")
    _git(repo, "rev-parse", "--git-dir")


def head_sha(repo: Path) -> str | None:
    """The commit HEAD points at; ``None`` in a repository with no commits yet."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "-q", "HEAD^{commit}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or None


def read_tags(repo: Path) -> list[Tag]:
    """Every tag that points (perhaps through an annotated tag) at a commit."""
    out = _git(
        repo,
        "for-each-ref",
        "refs/tags",
        "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objecttype)"
        "%00%(*objectname)%00%(creatordate:iso-strict)",
    )
    tags: list[Tag] = []
    for line in out.splitlines():
        parts = line.split("\0")
        if len(parts) != 6:
            continue
        name, otype, oid, ptype, poid, date = parts
        if otype == "commit":
            tags.append(Tag(name, oid, date))
        elif otype == "tag" and ptype == "commit":
            tags.append(Tag(name, poid, date))
    return tags


def remote_url(repo: Path, remote: str = "origin") -> str | None:
    """The web URL of ``remote`` (https form of a GitHub SSH or HTTPS remote), if any."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "remote", "get-url", remote],
        capture_output=True,
        text=True,
        check=False,
    )
    url = proc.stdout.strip()
    if not url:
        return None
    if url.startswith("git@") and ":" in url:
        host, path = url[4:].split(":", 1)
        url = f"https://{host}/{path}"
    elif url.startswith("ssh://git@"):
        url = "https://" + url[len("ssh://git@") :]
    url = url.removesuffix(".git").rstrip("/")
    return url if url.startswith(("https://", "http://")) else None


def iter_records(
    repo: Path,
    include: Iterable[str],
    exclude: Iterable[str] = (),
    *,
    topo: bool = False,
    progress: Progress | None = None,
) -> Iterator[list[str]]:
    """Raw records ``[sha, parents, author name, author e-mail, date, subject, body]``
    reachable from ``include`` and not from ``exclude``, newest first.

    The cheapest form, for passes over huge histories (see `Commit.from_record`). With
    ``topo`` every child comes before its parents (what release assignment needs).
    Revisions go through stdin, so thousands of tags never hit the argument-length limit.
    """
    revs = "".join(f"{r}\n" for r in include) + "".join(f"^{r}\n" for r in exclude)
    args = ["git", "-C", str(repo), "log", "--stdin", f"--format={_FORMAT}", "--no-color"]
    if topo:
        args.append("--topo-order")
    try:
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        proc.stdin.write(revs.encode())
        proc.stdin.close()
    except BrokenPipeError:  # git already failed (e.g. not a repository): reported below
        pass
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    count = 0
    try:
        while True:
            chunk = proc.stdout.read(_CHUNK)
            if not chunk:
                break
            records = (pending + decoder.decode(chunk)).split("\x1e\n")
            pending = records.pop()
            for raw in records:
                fields = raw.split("\0")
                if len(fields) == 7:
                    yield fields
            count += len(records)
            if progress is not None:
                progress.update(count)
        tail = (pending + decoder.decode(b"", final=True)).removesuffix("\x1e")
        if tail.strip():
            fields = tail.split("\0")
            if len(fields) == 7:
                yield fields
    finally:
        proc.stdout.close()
        rc = proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if progress is not None:
            progress.done()
    if rc != 0:
        raise GitError(f"git log in {repo}: {err or 'failed'}")


def iter_commits(
    repo: Path,
    include: Iterable[str],
    exclude: Iterable[str] = (),
    *,
    topo: bool = False,
    progress: Progress | None = None,
) -> Iterator[Commit]:
    """Commits reachable from ``include`` and not from ``exclude``, newest first."""
    for fields in iter_records(repo, include, exclude, topo=topo, progress=progress):
        yield Commit.from_record(fields)
