"""Conventional Commits (https://www.conventionalcommits.org/en/v1.0.0/) parsing.

One parser serves PR titles (the semantic-title policy) and commit messages (changelog, next
version). It is pure and linear-time: the input is capped and every expression is anchored
with no nested quantifiers, so untrusted titles cannot make it hang.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field

from steward.domain.refs import NUMBER
from steward.text import MAX_BODY, MAX_TITLE, cap

_HEADER = re.compile(
    r"(?P<type>[A-Za-z][A-Za-z0-9_-]*)"
    r"(?:\((?P<scope>[^()\r\n]*)\))?"
    r"(?P<bang>!)?"
    r": ?(?P<subject>[^\r\n]*)"
)
_PR_SUFFIX = re.compile(r"\s*\(#(?P<pr>[0-9]{1,9})\)\s*$")
_FOOTER = re.compile(
    r"(?P<token>BREAKING[ -]CHANGE|[A-Za-z][A-Za-z0-9-]*)(?P<sep>: | #)(?P<value>.*)"
)
# `Revert "feat: x (#10)"`, and GitHub's squash of it: `Revert "feat: x (#10)" (#11)`.
_REVERT_GIT = re.compile(r'Revert "(?P<inner>.*)"(?:\s*\(#(?P<pr>[0-9]{1,9})\))?\s*$')
_REVERT_SHA = re.compile(r"This reverts commit (?P<sha>[0-9a-f]{7,40})")
# GitHub's merge subject names its pull request whole (`steward.domain.refs.NUMBER`):
# `Merge pull request #12345678901 from x` and `#123abc` are no merge of PR 123456789 or 123.
_MERGE = re.compile(rf"Merge (?:pull request #(?P<pr>{NUMBER})|branch |remote-tracking |tag )")
# An empty `BREAKING CHANGE:` footer still marks the commit breaking.
_BREAKING = re.compile(r"(?P<token>BREAKING[ -]CHANGE):[ \t]*(?P<value>.*)")
_BULLET = re.compile(r"[ \t]*(?:[*-][ \t]+)?")
# The common, clean subject (no surrounding whitespace, a space after the colon, one plain
# scope): one anchored expression decides it, and always agrees with the full parse. Its
# groups, in order: type, scope, bang, subject, pr.
_CLEAN = re.compile(
    r"(?P<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?P<scope>[A-Za-z0-9_./$*-]+)\))?(?P<bang>!)?"
    r": (?P<subject>[^\s()](?:[^()\r\n]*[^\s()])?)(?: \(#(?P<pr>[0-9]{1,9})\))?"
)
_WIP = re.compile(r"^\s*(?:\[wip\]|wip\b|draft\b|\[draft\])", re.IGNORECASE)

BREAKING_TOKENS = frozenset({"BREAKING CHANGE", "BREAKING-CHANGE"})


@dataclass(frozen=True, slots=True)
class Header:
    """The first line of a conventional message: ``type(scope, scope)!: subject (#123)``."""

    type: str
    scopes: tuple[str, ...]
    breaking: bool
    subject: str
    pr: int | None = None
    # The subject as written after ": ", PR suffix included (what git-chglog prints).
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Message:
    """A whole commit message, parsed. ``header`` is ``None`` for a non-conforming message."""

    raw_subject: str
    header: Header | None
    breaking: bool
    breaking_notes: tuple[str, ...] = ()
    footers: tuple[tuple[str, str], ...] = ()
    co_authors: tuple[str, ...] = ()
    pr: int | None = None
    revert_of: str | None = None
    reverted_sha: str | None = None
    merge: bool = False
    notes: dict[str, str] = field(default_factory=dict)
    revert_pr: int | None = None

    @property
    def conforming(self) -> bool:
        return self.header is not None


def is_wip(title: str) -> bool:
    """A WIP/draft title: the semantic check stays pending instead of failing."""
    return bool(_WIP.match(cap(title, MAX_TITLE)))


def clean_match(subject: str) -> re.Match[str] | None:
    """The match of a clean subject (groups type, scope, bang, subject, pr), or ``None`` when
    only the full parse can decide. A match always equals `parse_header`'s result."""
    # The subject starts and ends with no whitespace: the expression says so (a subject and
    # its `(#N)` part in one way only, as `(` is in neither the subject nor a scope).
    return _CLEAN.fullmatch(subject) if len(subject) <= MAX_TITLE else None


def header_of_match(m: re.Match[str]) -> Header:
    scope = m.group("scope")
    pr = m.group("pr")
    return Header(
        type=m.group("type").lower(),
        scopes=(scope,) if scope else (),
        breaking=m.group("bang") is not None,
        subject=m.group("subject"),
        pr=int(pr) if pr else None,
        text=m.string[m.start("subject") :],
    )


def parse_header(line: str) -> Header | None:
    """Parse a conventional header; ``None`` when the line does not conform.

    A subject must follow ``: `` and must not be empty. A trailing ``(#123)`` (GitHub's squash
    merge suffix) is lifted into ``pr``. Clean subjects take a one-expression fast path.
    """
    fast = clean_match(line)
    if fast is not None:
        return header_of_match(fast)
    return parse_header_full(line)


def parse_header_full(line: str) -> Header | None:
    """`parse_header` without the fast path: the reference the fast path must agree with."""
    text = cap(line, MAX_TITLE).strip()
    m = _HEADER.fullmatch(text)
    if m is None:
        return None
    raw = m.group("subject")
    subject = raw.strip()
    # Require the space after the colon unless the subject is empty (which fails anyway).
    if not subject or text[m.start("subject") - 1] != " ":
        return None
    pr: int | None = None
    pm = _PR_SUFFIX.search(subject)
    if pm is not None:
        pr = int(pm.group("pr"))
        subject = subject[: pm.start()].rstrip()
        if not subject:
            return None
    scope_text = m.group("scope")
    scopes: tuple[str, ...] = ()
    if scope_text is not None:
        scopes = tuple(s.strip() for s in scope_text.split(",") if s.strip())
        if not scopes:
            return None
    return Header(
        type=m.group("type").lower(),
        scopes=scopes,
        breaking=m.group("bang") is not None,
        subject=subject,
        pr=pr,
        text=raw.rstrip(),
    )


def body_headers(body: str, types: Container[str]) -> list[Header]:
    """Conventional lines inside a body (a squash merge's `* fix(api): ...` list), one
    header each; only lines whose type is in ``types``, so prose such as `Note: ...` and
    trailers stay prose."""
    out: list[Header] = []
    for line in cap(body, MAX_BODY).splitlines():
        stripped = line[_BULLET.match(line).end() :]  # type: ignore[union-attr]
        if ":" not in stripped:
            continue
        header = parse_header(stripped)
        if header is not None and header.type in types:
            out.append(header)
    return out


def parse_message(subject: str, body: str = "") -> Message:
    """Parse a commit (subject line plus body). Never raises: bad input is non-conforming."""
    subject = cap(subject, MAX_TITLE).strip()
    body = cap(body, MAX_BODY)
    merge_m = _MERGE.match(subject)
    revert_of: str | None = None
    reverted_sha: str | None = None
    revert_pr: int | None = None
    rm = _REVERT_GIT.match(subject)
    if rm is not None:
        revert_of = rm.group("inner")
        revert_pr = int(rm.group("pr")) if rm.group("pr") else None
    header = parse_header(subject) if merge_m is None else None
    if header is not None and header.type == "revert" and revert_of is None:
        revert_of = header.subject
    if revert_of is not None:
        reverted_sha = reverted_commit(body)

    footers, notes_breaking = _footers(body)
    co_authors = tuple(v.strip() for k, v in footers if k.lower() == "co-authored-by")
    breaking = bool(header and header.breaking) or bool(notes_breaking)
    pr = header.pr if header is not None else None
    if pr is None and merge_m is not None and merge_m.group("pr"):
        pr = int(merge_m.group("pr"))
    if pr is None:
        pr = revert_pr
    if pr is None:
        pm = _PR_SUFFIX.search(subject)
        if pm is not None:
            pr = int(pm.group("pr"))
    notes = {k: v for k, v in footers if k not in BREAKING_TOKENS}
    return Message(
        raw_subject=subject,
        header=header,
        breaking=breaking,
        breaking_notes=tuple(notes_breaking),
        footers=tuple(footers),
        co_authors=co_authors,
        pr=pr,
        revert_of=revert_of,
        reverted_sha=reverted_sha,
        merge=merge_m is not None,
        notes=notes,
        revert_pr=revert_pr,
    )


def reverted_commit(body: str) -> str | None:
    """The sha `git revert`'s message names (`This reverts commit <sha>`), if any."""
    sm = _REVERT_SHA.search(cap(body, MAX_BODY))
    return sm.group("sha") if sm is not None else None


def trailers(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The co-authors and the breaking notes of a commit body, as `parse_message` reads
    them (its ``co_authors`` and ``breaking_notes``), without the rest of the parse."""
    body = cap(body, MAX_BODY)
    if (
        "BREAKING" in body
        or "\r" in body
        or "\x0b" in body
        or "\x0c" in body
        or "\x1c" in body
        or "\x1d" in body
        or "\x1e" in body
        or "\x85" in body
        or "\u2028" in body
        or "\u2029" in body
    ):
        footers, breaking = _footers(body)
        co = tuple(v.strip() for k, v in footers if k.lower() == "co-authored-by")
        return co, tuple(breaking)
    # The common body: no breaking note, and lines split by "\n" alone (none of the other
    # breaks `str.splitlines` knows). `_footers`' co-authors are then the lines of its
    # trailing paragraph (after the last blank line but the final one) that start with
    # `co-authored-by: ` in any case: a footer's token is the whole run of letters, digits
    # and dashes before ": ", and only U+0130 and U+212A lower-case to ASCII (to `i`, `k`).
    # Read from the end, the trailing paragraph is all there is to read.
    text = body[:-1] if body.endswith("\n") else body  # no line after it, as splitlines
    co_authors: list[str] = []
    last = end = len(text)
    while True:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line[:16].lower() == "co-authored-by: ":
            co_authors.append(line[16:].strip())
        elif end != last and not line.strip():
            break
        if not start:
            break
        end = start - 1
    co_authors.reverse()
    return tuple(co_authors), ()


def _footers(body: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Footers are the trailing paragraph's ``Token: value`` lines (git trailer style).

    ``BREAKING CHANGE:`` is recognised anywhere at the start of a line, since many projects put
    it in the body rather than the last paragraph; its value runs until the next footer.
    """
    footers: list[tuple[str, str]] = []
    breaking: list[str] = []
    if not body:
        return footers, breaking
    lines = body.splitlines()
    last_para = 0  # where the trailing paragraph starts: after the last blank line but one
    for i in range(len(lines) - 2, -1, -1):
        if not lines[i].strip():
            last_para = i + 1
            break
    if "BREAKING" not in body:
        # No breaking note anywhere: only the trailing paragraph's `Token: value` lines are
        # footers, and the rest of the body need not be read (the loop below agrees).
        for raw in lines[last_para:]:
            fm = _FOOTER.match(raw)
            if fm is not None and fm.group("sep") == ": ":
                footers.append((fm.group("token"), fm.group("value").strip()))
        return footers, breaking
    current: list[str] | None = None
    for i, raw in enumerate(lines):
        bm = _BREAKING.match(raw)
        if bm is not None:
            value = bm.group("value").strip()
            footers.append((bm.group("token"), value))
            breaking.append(value)
            current = breaking
            continue
        fm = _FOOTER.match(raw)
        token = fm.group("token") if fm is not None else None
        if (
            fm is not None
            and token is not None
            and (token in BREAKING_TOKENS or (i >= last_para and fm.group("sep") == ": "))
        ):
            value = fm.group("value").strip()
            footers.append((token, value))
            current = [value] if token in BREAKING_TOKENS else None
            if current is not None:
                breaking.append(value)
            continue
        if current is not None and raw.strip():
            breaking[-1] = (breaking[-1] + " " + raw.strip()).strip()
        elif not raw.strip():
            current = None
    return footers, breaking
