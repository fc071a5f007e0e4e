"""Histories for the changelog benchmark: the real Powertools one, and synthetic ones shaped
like it.

`powertools()` loads the fixture tests/fixtures/powertools/powertools-history.fi.gz (the
public aws-powertools/powertools-lambda-python history: 3,868 commits on `develop`, 146
version tags) into bench/.cache/powertools, checked out on `develop`, with no steward config.

`realistic(n, tags)` generates `n` commits whose messages follow that history. Its figures
are read from the fixture each time a history is generated (`git log develop`, every commit
that branch reaches), not written down here, so the generator follows the data:

- the subject's form: each generated commit takes the form of a commit of the fixture drawn
  at random (with replacement), so the mix of types, of scopes, of `!`, of non-conventional
  subjects (`Merge branch ...`, `Revert "..."`, plain sentences) and how they go together
  with bodies is the real one;
- the `(#N)` PR reference that ends a subject: present where the drawn commit has one, with
  PR numbers that grow along the history;
- the body: present where the drawn commit has one, of its shape (lines, blank lines, list
  markers, word lengths, numbers, trailers such as `Co-authored-by:` and `Signed-off-by:`,
  the conventional lines of a squash merge's list, `BREAKING CHANGE` footers);
- the share of annotated tags and the number of authors.

How it simplifies reality:

- synthetic text: every word outside the structure above is replaced by made-up letters of
  the same length and case (a few variants of each real message), so no subject repeats
  the real one and a `Revert "..."` no longer names a commit of the history;
- a linear history: one parent per commit, no merge commits (a drawn `Merge ...` subject
  becomes a one-parent commit with that subject), no branches;
- one file changed per commit (`f.txt`, its content the commit's number);
- tags on trunk commits only, evenly spaced (every n // tags commits), lightweight or
  annotated, versions from v1.0.0 bumped by what each release holds (major for a breaking
  change, minor for a feat, else patch); no pre-releases, floating tags or tags off the trunk;
- authors `Dev 0` ... `Dev k-1` in turn, a commit every 10 minutes.

The commits do not depend on the number of tags: the 99-tag and 2,000-tag histories of one
size have the same commit ids. Generated histories are cached under bench/.cache/, keyed by
the fixture's content, with a commit-graph written as users' git does after a gc.
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import random
import re
import shutil
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
FIXTURE = HERE.parent / "tests" / "fixtures" / "powertools" / "powertools-history.fi.gz"
GENERATOR = "realistic-1"  # bump to regenerate cached histories when the generator changes
SEED = 20_241_024
VARIANTS = 4  # made-up texts per real message
START = 1_500_000_000
DONE = "steward-bench-done"

# Kept as they are when a message is made synthetic: conventional prefixes (at the start of
# any line, also as a list item) and trailer keys, BREAKING CHANGE, the start of GitHub's merge
# and revert subjects. Everything else has its letters replaced.
_KEEP = re.compile(
    r"^[ \t]*(?:[*-][ \t]+)?[A-Za-z][\w-]*(?:\([^()\n]*\))?!?:(?= |$)"
    r"|BREAKING[ -]CHANGE"
    r"|^Merge (?:pull request|branch|remote-tracking branch)"
    r'|^Revert "(?:[A-Za-z]\w*(?:\([^()\n]*\))?!?: )?',
    re.M,
)
_WORD = re.compile(r"[A-Za-z]+")
_PR = re.compile(r" ?\(#\d+\)$")
_CONVENTIONAL = re.compile(r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()\n]*)\))?(?P<bang>!)?: ")
_BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE:", re.M)


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return out.stdout


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _cached(repo: Path, key: str) -> bool:
    marker = repo / ".git" / DONE
    return marker.exists() and marker.read_text() == key


def _finish(repo: Path, key: str) -> None:
    subprocess.run(["git", "-C", str(repo), "commit-graph", "write", "--reachable"], check=True)
    (repo / ".git" / DONE).write_text(key)


def cz_config(repo: Path) -> None:
    """commitizen's config, untracked: tags `v$version`, PEP 440 versions."""
    (repo / ".cz.toml").write_text(
        '[tool.commitizen]\nname = "cz_conventional_commits"\ntag_format = "v$version"\n'
        'version_scheme = "pep440"\nversion = "0.0.0"\nupdate_changelog_on_bump = false\n'
    )


def powertools() -> Path:
    """The real Powertools history, checked out on `develop`; no steward config."""
    repo = CACHE / "powertools"
    key = f"fixture {_digest(FIXTURE)}"
    if not _cached(repo, key):
        shutil.rmtree(repo, ignore_errors=True)
        repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        proc = subprocess.Popen(
            ["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE
        )
        assert proc.stdin is not None
        with gzip.open(FIXTURE, "rb") as stream:
            shutil.copyfileobj(stream, proc.stdin)
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"git fast-import of {FIXTURE} failed")
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "develop"], check=True)
        _finish(repo, key)
    cz_config(repo)
    return repo


@dataclass(frozen=True)
class Message:
    """One real commit message: its subject (without a closing `(#N)`), whether it had one,
    its body, and what it releases (3 breaking, 2 feat, 1 anything else)."""

    subject: str
    pr: bool
    body: str
    level: int


@dataclass(frozen=True)
class Profile:
    messages: tuple[Message, ...]
    annotated: float  # share of the version tags that are annotated
    authors: int

    def summary(self) -> str:
        n = len(self.messages)
        kinds: collections.Counter[str] = collections.Counter()
        for m in self.messages:
            match = _CONVENTIONAL.match(m.subject)
            kinds[match["type"] if match else "(not conventional)"] += 1
        mix = ", ".join(f"{k} {c / n:.0%}" for k, c in kinds.most_common(6))
        bodies = sum(1 for m in self.messages if m.body) / n
        prs = sum(1 for m in self.messages if m.pr) / n
        return (
            f"{n:,} real commits: {mix}; {bodies:.0%} with a body, {prs:.0%} with (#N); "
            f"{self.annotated:.0%} of tags annotated; {self.authors} authors"
        )


def profile(repo: Path) -> Profile:
    """The figures of the history at ``repo`` (its `develop`) that `realistic` follows."""
    messages: list[Message] = []
    authors: set[str] = set()
    for record in _git(repo, "log", "--format=%an%x01%B%x00", "develop").split("\0"):
        if "\x01" not in record:
            continue
        author, text = record.lstrip("\n").split("\x01", 1)
        authors.add(author)
        subject, _, body = text.strip("\n").partition("\n")
        body = body.strip("\n")
        pr = _PR.search(subject)
        match = _CONVENTIONAL.match(subject)
        if (match and match["bang"]) or _BREAKING_FOOTER.search(body):
            level = 3
        elif match and match["type"] == "feat":
            level = 2
        else:
            level = 1
        messages.append(Message(subject[: pr.start()] if pr else subject, bool(pr), body, level))
    kinds = _git(repo, "for-each-ref", "refs/tags", "--format=%(objecttype)").split()
    annotated = kinds.count("tag") / len(kinds) if kinds else 0.0
    return Profile(tuple(reversed(messages)), annotated, len(authors))


def synthetic(text: str, rng: random.Random) -> str:
    """``text`` with every word outside its structure (see _KEEP) made up, same length and case."""
    letters = string.ascii_lowercase

    def word(m: re.Match[str]) -> str:
        w = m.group()
        new = "".join(rng.choices(letters, k=len(w)))
        if len(w) > 1 and w.isupper():
            return new.upper()
        return new.capitalize() if w[0].isupper() else new

    out: list[str] = []
    pos = 0
    for keep in _KEEP.finditer(text):
        out.append(_WORD.sub(word, text[pos : keep.start()]))
        out.append(keep.group())
        pos = keep.end()
    out.append(_WORD.sub(word, text[pos:]))
    return "".join(out)


def _stream(n: int, tags: int, prof: Profile):  # type: ignore[no-untyped-def]
    """fast-import commands: ``n`` commits drawn from ``prof``, ``tags`` tags evenly spaced."""
    draw = random.Random(SEED)  # the commits: independent of the tags
    made_up = random.Random(SEED + 1)
    tagging = random.Random(SEED + 2)
    variants = [
        [
            (synthetic(m.subject, made_up), synthetic(m.body, made_up) if m.body else "")
            for _ in range(VARIANTS)
        ]
        for m in prof.messages
    ]
    step = max(1, n // tags)
    version = None
    level = 0
    pr = 0
    yield b"blob\nmark :1\ndata 2\nx\n"
    for i in range(1, n + 1):
        k = draw.randrange(len(prof.messages))
        subject, body = variants[k][draw.randrange(VARIANTS)]
        level = max(level, prof.messages[k].level)
        if prof.messages[k].pr:
            pr += 1
            subject += f" (#{pr})"
        data = (subject + "\n" + (f"\n{body}\n" if body else "")).encode()
        who = f"Dev {i % prof.authors} <dev{i % prof.authors}@example.com> {START + i * 600} +0000"
        out = (
            f"commit refs/heads/main\nmark :{i + 1}\nauthor {who}\ncommitter {who}\n"
            f"data {len(data)}\n"
        ).encode() + data
        if i > 1:
            out += f"from :{i}\n".encode()
        content = f"{i}\n".encode()
        out += b"M 100644 inline f.txt\ndata " + str(len(content)).encode() + b"\n" + content
        out += b"\n"
        if i % step == 0 and i // step <= tags:
            version = _bump(version, level)
            level = 0
            name = "v{}.{}.{}".format(*version)
            if tagging.random() < prof.annotated:
                note = f"Release {name}\n".encode()
                out += (
                    f"tag {name}\nfrom :{i + 1}\ntagger {who}\ndata {len(note)}\n".encode()
                    + note
                    + b"\n"
                )
            else:
                out += f"reset refs/tags/{name}\nfrom :{i + 1}\n\n".encode()
        yield out


def _bump(version: tuple[int, int, int] | None, level: int) -> tuple[int, int, int]:
    if version is None:
        return (1, 0, 0)
    major, minor, patch = version
    if level >= 3:
        return (major + 1, 0, 0)
    if level == 2:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def realistic(n: int, tags: int) -> tuple[Path, Profile]:
    """A history of ``n`` commits shaped like the Powertools one, with ``tags`` release tags."""
    source = powertools()
    prof = profile(source)
    repo = CACHE / f"realistic-{n}-{tags}tags"
    key = f"{GENERATOR} fixture {_digest(FIXTURE)} seed {SEED}"
    if _cached(repo, key):
        return repo, prof
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    for chunk in _stream(n, tags, prof):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard", "main"], check=True)
    _finish(repo, key)
    print(
        f"  generated {n:,} commits, {tags:,} tags in {time.perf_counter() - start:.1f}s",
        flush=True,
    )
    return repo, prof
