"""Every git command steward runs, in one place: the only module that starts `git`.

Commits come from a single `git log -z` whose records are NUL-separated (a commit message
cannot hold NUL, so no subject or body can break a record), read in chunks: memory stays
flat however long the history is, and no commit costs a subprocess of its own. Tags come
from one `git for-each-ref`; which tags HEAD already contains, from another.
"""

from __future__ import annotations

import codecs
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from steward.errors import GitError, UsageError
from steward.history.bumps import CommitPatch, parse_patches
from steward.history.progress import Progress
from steward.history.records import Commit, Tag

# A leading NUL marks each record's start; `-z` ends the format (and each file name) with
# NUL. So "", header, [files...], "", header, ... where the header's first six lines are
# single-line fields and the rest is the body.
_FORMAT = "%x00%H%n%P%n%an%n%ae%n%aI%n%s%n%b"
_CHUNK = 1 << 20
_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
# Variables that point git at another repository, work tree, index or object store (a hook,
# or a CI step run inside another repository's hook, has them set): steward reads the
# repository it was told to read. A caller's explicit ``env`` (a temporary index) still wins.
_REDIRECTS = frozenset(
    {
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE",
        "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_PREFIX",
        "GIT_SHALLOW_FILE", "GIT_GRAFT_FILE", "GIT_REPLACE_REF_BASE", "GIT_QUARANTINE_PATH",
    }
)  # fmt: skip


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """steward's environment for git: the process's, less `_REDIRECTS`, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if k not in _REDIRECTS}
    return {**base, **_ENV, **(extra or {})}


def _spawn(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None


def git(
    root: Path, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None
) -> str:
    """Run ``git args`` in ``root``; return stdout stripped, raise `GitError` on failure."""
    proc = _spawn(["git", *args], cwd=root, env=_env(env), input=stdin)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-800:]
        raise GitError(f"git {' '.join(args[:3])} failed ({proc.returncode}): {err}")
    return proc.stdout.decode(errors="replace").strip()


def git_bytes(root: Path, *args: str) -> bytes:
    """``git args`` in ``root`` as raw bytes (archives, blobs)."""
    proc = _spawn(["git", *args], cwd=root, env=_env())
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-800:]
        raise GitError(f"git {' '.join(args[:3])} failed ({proc.returncode}): {err}")
    return proc.stdout


def _try(root: Path, *args: str) -> str | None:
    """``git args`` stdout stripped, or ``None`` when git says no (not an error)."""
    proc = _spawn(["git", "-C", str(root), *args], env=_env())
    return proc.stdout.decode(errors="replace").strip() if proc.returncode == 0 else None


def ref_sha(root: Path, ref: str) -> str | None:
    """The object a local ref points at, or None when it does not exist."""
    return _try(root, "rev-parse", "--verify", "--quiet", ref) or None


def remote_ref(root: Path, remote: str, ref: str) -> str | None:
    """The object ``ref`` points at on ``remote`` (read with ls-remote), or None."""
    out = git(root, "ls-remote", remote, ref)
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return None


def remote_get_url(root: Path, remote: str) -> str:
    """The configured URL of ``remote`` as git has it; ``remote`` itself when unset (a path)."""
    return _try(root, "remote", "get-url", remote) or remote


def remote_refs(root: Path, remote: str, *patterns: str) -> dict[str, str]:
    """Every ref on ``remote`` that ``patterns`` name, as name -> object (one ls-remote; a
    ``REF^{}`` pattern asks for the commit a tag peels to)."""
    out = git(root, "ls-remote", remote, *patterns)
    found: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        found[name] = sha
    return found


def has_remote(root: Path, remote: str) -> bool:
    """Whether ``root`` has a remote named ``remote`` (any git failure counts as no)."""
    try:
        git(root, "remote", "get-url", remote)
    except GitError:
        return False
    return True


def head_commit(root: Path) -> str:
    """The commit HEAD points at; `GitError` with git's own reason when there is none (not
    a repository, no commit yet), for callers that tell the user why."""
    return git(root, "rev-parse", "--verify", "HEAD^{commit}")


def head_branch(root: Path) -> str:
    """The branch HEAD names, even before the first commit; `GitError` when HEAD is
    detached or ``root`` is not a repository."""
    return git(root, "symbolic-ref", "--quiet", "--short", "HEAD")


def commit_timestamp(root: Path, commit: str) -> str:
    """``commit``'s committer date as git prints it: Unix seconds (`%ct`), a release's
    default SOURCE_DATE_EPOCH."""
    return git(root, "show", "-s", "--format=%ct", commit)


def parents(root: Path, commit: str) -> list[str]:
    """The parents of ``commit`` (none for a root commit)."""
    return git(root, "rev-parse", f"{commit}^@").split()


def tree_of(root: Path, commit: str) -> str:
    """The id of ``commit``'s tree: two commits with the same tree hold the same files."""
    return git(root, "rev-parse", f"{commit}^{{tree}}")


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One path of a commit's tree, as `git ls-tree` lists it."""

    mode: str  # "100644", "100755", "120000" (a symlink), "040000" (a tree), ...
    kind: str  # "blob", "tree", "commit" (a submodule)
    sha: str


def tree_entry(root: Path, rev: str, path: str) -> TreeEntry | None:
    """What ``path`` is in ``rev``'s tree, or None when the tree has no such path."""
    listed = git(root, "ls-tree", rev, "--", path).split()
    if not listed:
        return None
    mode, kind, sha = listed[:3]
    return TreeEntry(mode, kind, sha)


def tree_has_path(root: Path, rev: str, path: str) -> bool:
    """Whether ``rev``'s tree holds ``path`` (`GitError` when ``rev`` is unknown)."""
    return bool(git(root, "ls-tree", "--name-only", rev, "--", path))


def object_size(root: Path, sha: str) -> int:
    """The size in bytes of object ``sha``, read before the object itself is."""
    return int(git(root, "cat-file", "-s", sha))


def read_blob(root: Path, sha: str) -> bytes:
    """The bytes of blob ``sha``."""
    return git_bytes(root, "cat-file", "blob", sha)


def show_file(root: Path, rev: str, path: str) -> bytes:
    """The bytes of ``path`` as ``rev`` holds it; `GitError` when it holds no such file."""
    return git_bytes(root, "show", f"{rev}:{path}")


def archive_tar(root: Path, commit: str) -> bytes:
    """``commit``'s tree as an uncompressed tar (`git archive`): exactly the committed files,
    dotfiles included, no `.git`, whatever else sits in the worktree."""
    return git_bytes(root, "archive", "--format=tar", commit)


def grep_subjects(root: Path, text: str, revs: Sequence[str], limit: int) -> list[tuple[str, str]]:
    """(sha, subject) of the newest ``limit`` commits reachable from ``revs`` whose message
    holds ``text`` (a fixed string, not a pattern), newest first."""
    out = git(
        root,
        "log",
        "--fixed-strings",
        f"--grep={text}",
        f"--max-count={limit}",
        "--format=%H%x09%s",
        *revs,
        "--",
    )
    rows = []
    for row in out.splitlines():
        sha, _, subject = row.partition("\t")
        rows.append((sha, subject))
    return rows


def ensure_repo(repo: Path) -> None:
    """Fail clearly when ``repo`` is not a git work tree."""
    if not repo.is_dir():
        raise GitError(f"{repo}: no such directory")
    if _try(repo, "rev-parse", "--git-dir") is None:
        raise GitError(f"{repo}: not a git repository")


@dataclass(frozen=True, slots=True)
class Probe:
    """What every history command first needs to know, from one `git rev-parse`."""

    git_dir: Path
    shallow: bool
    head: str | None  # None in a repository with no commits yet


def probe(repo: Path) -> Probe:
    """The repository's git directory, whether it is shallow, and HEAD's commit; a clear
    error when ``repo`` is not a git work tree."""
    if not repo.is_dir():
        raise GitError(f"{repo}: no such directory")
    proc = _spawn(
        ["git", "-C", str(repo), "rev-parse", "--absolute-git-dir", "--is-shallow-repository",
         "--verify", "-q", "HEAD^{commit}"],
        env=_env(),
    )  # fmt: skip
    out = proc.stdout.decode(errors="replace").splitlines()
    if proc.returncode not in {0, 1} or len(out) < 2:
        raise GitError(f"{repo}: not a git repository")
    head = out[2].strip() if proc.returncode == 0 and len(out) > 2 else None
    return Probe(Path(out[0]), out[1].strip() == "true", head or None)


def head_sha(repo: Path) -> str | None:
    """The commit HEAD points at; ``None`` in a repository with no commits yet."""
    return _try(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}") or None


def git_dir(repo: Path) -> Path:
    """The repository's private directory (`.git`, or a worktree's), for steward's caches."""
    out = _try(repo, "rev-parse", "--absolute-git-dir")
    if not out:
        raise GitError(f"{repo}: not a git repository")
    return Path(out)


def is_shallow(repo: Path) -> bool:
    """True in a shallow clone (`actions/checkout`'s default `fetch-depth: 1`)."""
    return _try(repo, "rev-parse", "--is-shallow-repository") == "true"


def fetches_no_tags(repo: Path, remote: str = "origin") -> bool:
    """True when ``remote`` is set never to fetch tags (`git clone --no-tags`)."""
    return _try(repo, "config", "--get", f"remote.{remote}.tagOpt") == "--no-tags"


def fetch_history(repo: Path, remote: str = "origin") -> None:
    """Deepen a shallow clone to the whole history and fetch every tag (``--fetch``)."""
    if _try(repo, "remote", "get-url", remote) is None:
        raise UsageError(f"--fetch: {repo} has no remote {remote!r} to fetch the history from")
    args = ["fetch", "--quiet", "--tags", remote]
    if is_shallow(repo):
        args.insert(1, "--unshallow")
    git(repo, *args)


def read_tags(repo: Path) -> list[Tag]:
    """Every tag that points (perhaps through an annotated tag) at a commit."""
    out = _try(
        repo,
        "for-each-ref",
        "refs/tags",
        "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objecttype)"
        "%00%(*objectname)%00%(creatordate:iso-strict)",
    )
    if out is None:
        raise GitError(f"git for-each-ref in {repo} failed")
    tags: list[Tag] = []
    for line in out.splitlines():
        parts = line.split("\0")
        if len(parts) != 6:
            continue
        name, otype, oid, ptype, poid, date = parts
        if otype == "commit":
            tags.append(Tag(name, oid, date, oid))
        elif otype == "tag" and ptype == "commit":
            tags.append(Tag(name, poid, date, oid))
    return tags


def merged_tags(repo: Path, head: str) -> set[str]:
    """Names of the tags whose commit ``head`` contains (one walk, `for-each-ref --merged`)."""
    out = _try(repo, "for-each-ref", f"--merged={head}", "--format=%(refname:strip=2)", "refs/tags")
    if out is None:
        raise GitError(f"git for-each-ref --merged in {repo} failed")
    return set(out.splitlines())


def unreachable_from(repo: Path, shas: Iterable[str], head: str) -> set[str]:
    """The commits ``shas`` reach that ``head`` does not (one `git rev-list`): a sha given
    is an ancestor of ``head`` exactly when it is not in the answer, and so is any commit
    those shas reach (a release bump's parent among them)."""
    revs = "".join(f"{s}\n" for s in shas) + f"^{head}\n"
    proc = _spawn(["git", "-C", str(repo), "rev-list", "--stdin"], input=revs.encode(), env=_env())
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-800:]
        raise GitError(f"git rev-list in {repo} failed: {err}")
    return set(proc.stdout.decode().split())


def iter_patches(repo: Path, shas: Iterable[str]) -> Iterator[CommitPatch]:
    """Each named commit with its parents and its changes line by line (`git log -p -U0`,
    one process, read as a stream: a big commit costs time, not memory), parsed by
    `steward.history.bumps`; a merge lists no files."""
    revs = "".join(f"{s}\n" for s in shas)
    args = [
        "git", "-C", str(repo), "-c", "core.quotePath=false", "log", "--stdin",
        "--no-walk=unsorted", "--format=%x00%H %P", "-p", "--unified=0", "--no-renames",
        "--no-color", "--no-ext-diff", "--no-textconv",
    ]  # fmt: skip
    try:
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        proc.stdin.write(revs.encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    lines = (raw.decode(errors="replace").rstrip("\n") for raw in proc.stdout)
    try:
        yield from parse_patches(lines)
    finally:
        proc.stdout.close()
        rc = proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    if rc != 0:
        raise GitError(f"git log -p in {repo} failed: {err[-800:]}")


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    args = ["git", "-C", str(repo), "merge-base", "--is-ancestor", ancestor, descendant]
    proc = _spawn(args, env=_env())
    return proc.returncode == 0


def remote_url(repo: Path, remote: str = "origin") -> str | None:
    """The web URL of ``remote`` (https form of a GitHub SSH or HTTPS remote), if any."""
    url = _try(repo, "remote", "get-url", remote)
    if not url:
        return None
    if url.startswith("git@") and ":" in url:
        host, path = url[4:].split(":", 1)
        url = f"https://{host}/{path}"
    elif url.startswith("ssh://git@"):
        url = "https://" + url[len("ssh://git@") :]
    url = url.removesuffix(".git").rstrip("/")
    return url if url.startswith(("https://", "http://")) else None


def _widen_pipe(fd: int) -> None:
    """A 1 MiB pipe (Linux) lets git run ahead while a chunk is parsed; elsewhere a no-op."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _CHUNK)
    except (ImportError, OSError):
        pass


def parse_log(chunks: Iterable[bytes]) -> Iterator[Commit]:
    """Commits from `git log -z` output in `_FORMAT` (with or without `--name-only`),
    fed in chunks of any size."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    header: str | None = None
    changed: list[str] = []
    expect_header = False
    for chunk in _with_end(chunks):
        final = not chunk
        tokens = (pending + decoder.decode(chunk, final=final)).split("\0")
        pending = "" if final else tokens.pop()
        for token in tokens:
            if expect_header:
                expect_header, header = False, token
            elif not token:  # a record starts
                if header is not None:
                    commit = Commit.from_header(header, tuple(changed))
                    if commit is not None:
                        yield commit
                header, changed, expect_header = None, [], True
            elif header is not None and (name := token.lstrip("\n")):
                changed.append(name)
    if header is not None:
        commit = Commit.from_header(header, tuple(changed))
        if commit is not None:
            yield commit


def _with_end(chunks: Iterable[bytes]) -> Iterator[bytes]:
    yield from chunks
    yield b""


def iter_commits(
    repo: Path,
    include: Iterable[str],
    exclude: Iterable[str] = (),
    *,
    topo: bool = False,
    files: bool = False,
    no_walk: bool = False,
    progress: Progress | None = None,
) -> Iterator[Commit]:
    """Commits reachable from ``include`` and not from ``exclude``, newest first.

    With ``topo`` every child comes before its parents (what release assignment needs);
    with ``files`` each commit carries the paths it changed (`--name-only`; a merge lists
    none); ``no_walk`` reads just the named commits. Revisions go through stdin, so
    thousands of tags never hit the argument limit.
    """
    revs = "".join(f"{r}\n" for r in include) + "".join(f"^{r}\n" for r in exclude)
    args = ["git", "-C", str(repo), "log", "--stdin", "-z", f"--format={_FORMAT}", "--no-color"]
    if topo:
        args.append("--topo-order")
    if files:
        args += ["--name-only", "--no-renames"]
    if no_walk:
        args.append("--no-walk=unsorted")
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
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
    _widen_pipe(proc.stdout.fileno())
    fd = proc.stdout.fileno()
    count = 0
    try:
        # os.read returns what git has written so far: parsing overlaps git's own work
        # instead of waiting for each megabyte to fill.
        for commit in parse_log(iter(lambda: os.read(fd, _CHUNK), b"")):
            yield commit
            count += 1
            if progress is not None:
                progress.update(count)
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
