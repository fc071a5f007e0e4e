"""What a commit means for a release: one reading shared by changelog, version and notes.

A commit becomes zero or more `Change`s: its conventional header (merge commits included,
when their subject is conventional), GitHub's `Revert "..."` (a revert), a `Merge pull
request #N from ...` (a merged PR), or a non-conventional commit; with `body_entries`, every
conventional line of its body (a squash merge's `* fix(api): ...` list) is a change of its
own, an exact repeat (the subject's included) once. A revert and the commit it reverts inside
one range cancel out (`cancel_reverts`), so the changelog and the next version agree on what
a range holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Iterable, Sequence
from json.encoder import encode_basestring as escape_json
from typing import Any, Literal

from steward.config.release import VersionConfig
from steward.conventional import (
    Header,
    body_headers,
    clean_match,
    header_of_match,
    parse_message,
    reverted_commit,
    trailers,
)
from steward.history.records import Commit

Kind = Literal["commit", "revert", "merge", "other"]

# Types a body line may carry to count as an entry (besides the configured ones).
STANDARD_TYPES = frozenset(
    {"feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert"}
)


def body_types(sections: Iterable[str], version: VersionConfig) -> frozenset[str]:
    """The types a body line is read with (`body_entries`) for the version: the standard
    ones and every type the config gives a section or a bump, so `version next` (one package
    or all) and offline release notes read a squash body alike."""
    return STANDARD_TYPES | set(sections) | set(version.minor_types) | set(version.patch_types)


_EMAIL = re.compile(r"\s*<[^<>]*>\s*$")
_PR_MERGE = re.compile(r"Merge pull request #[0-9]{1,9} from ")
_PR_SUFFIX = re.compile(r"\s*\(#[0-9]{1,9}\)\s*$")


class Change:
    """One entry-to-be. ``type`` is None for a revert, a merged PR or a non-conventional
    commit; ``text`` is the subject as written (after `type(scope): `, PR suffix included,
    what git-chglog prints); ``line`` is the commit's whole subject line (what a revert
    names). A long history keeps many of these: the subject is derived, not stored, and a
    clean subject's line is kept as its head (`type(scope): `, one string per distinct
    head) and its text. Otherwise a plain data class (fields, equality, repr)."""

    __slots__ = (
        "_head", "_tail", "authors", "breaking", "extra", "kind", "notes", "pr", "reverts",
        "reverts_sha", "scope", "sha", "text", "type",
    )  # fmt: skip
    __match_args__ = (
        "kind", "type", "scope", "text", "pr", "sha", "breaking", "authors", "line",
        "notes", "reverts", "reverts_sha", "extra",
    )  # fmt: skip
    __hash__ = None  # type: ignore[assignment]  # mutable, as the data class it was

    kind: Kind
    type: str | None
    scope: str | None
    text: str
    pr: int | None
    sha: str
    breaking: bool
    authors: tuple[str, ...]
    notes: tuple[str, ...]
    reverts: str | None  # kind "revert": the reverted subject line
    reverts_sha: str | None
    extra: bool  # from the body, not the subject

    def __init__(  # noqa: PLR0917 (the data class's positional fields, as they were)
        self,
        kind: Kind,
        type: str | None,
        scope: str | None,
        text: str,
        pr: int | None,
        sha: str,
        breaking: bool,
        authors: tuple[str, ...],
        line: str,
        notes: tuple[str, ...] = (),
        reverts: str | None = None,
        reverts_sha: str | None = None,
        extra: bool = False,
    ) -> None:
        self.kind = kind
        self.type = type
        self.scope = scope
        self.text = text
        self.pr = pr
        self.sha = sha
        self.breaking = breaking
        self.authors = authors
        self._head = ""
        self._tail = line
        self.notes = notes
        self.reverts = reverts
        self.reverts_sha = reverts_sha
        self.extra = extra

    @property
    def line(self) -> str:
        head = self._head
        return head + self._tail if head else self._tail

    @line.setter
    def line(self, value: str) -> None:
        self._head, self._tail = "", value

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.kind, self.type, self.scope, self.text, self.pr, self.sha, self.breaking,
            self.authors, self.line, self.notes, self.reverts, self.reverts_sha, self.extra,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Change)
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        values = ", ".join(
            f"{k}={v!r}" for k, v in zip(self.__match_args__, self._fields(), strict=True)
        )
        return f"{self.__class__.__qualname__}({values})"

    @property
    def subject(self) -> str:
        """The subject without GitHub's `(#123)` suffix when that is the PR number."""
        if self.kind == "commit" and self.pr is not None:
            return without_pr_suffix(self.text)
        return self.text.strip()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "type": self.type,
            "scope": self.scope,
            "subject": self.subject,
            "pr": self.pr,
            "sha": self.sha,
            "breaking": self.breaking,
            "notes": list(self.notes),
            "authors": list(self.authors),
        }


def without_pr_suffix(text: str) -> str:
    """``_PR_SUFFIX.sub("", text, count=1).strip()`` without running the expression: the
    suffix can only start at the last `(#`, and it is there when digits (1 to 9, ASCII),
    `)` and nothing but whitespace follow; what is before it, stripped, is the subject."""
    i = text.rfind("(#")
    if i >= 0:
        j = text.find(")", i)
        digits = text[i + 2 : j]
        if (
            j > 0
            and 0 < len(digits) < 10
            and digits.isascii()
            and digits.isdigit()
            and not text[j + 1 :].strip()
        ):
            return text[:i].strip()
    return text.strip()


def _dumps(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


_HEADS: dict[tuple[str, str | None, str | None], str] = {}
_AUTHORS_JSON: dict[tuple[str, ...], str] = {}


def _head_json(key: tuple[str, str | None, str | None]) -> str:
    """An entry's JSON up to its subject's value, for its kind, type and scope."""
    kind, ctype, scope = key
    if len(_HEADS) >= _MEMO_SIZE:
        _HEADS.clear()
    _HEADS[key] = got = (
        f'{{"kind": {_dumps(kind)}, "type": {_dumps(ctype)}, "scope": {_dumps(scope)}, "subject": '
    )
    return got


def _authors_json(authors: tuple[str, ...]) -> str:
    if len(_AUTHORS_JSON) >= _MEMO_SIZE:
        _AUTHORS_JSON.clear()
    _AUTHORS_JSON[authors] = got = f"[{', '.join(map(escape_json, authors))}]"
    return got


def entry_json(c: Change) -> str:
    """``json.dumps(c.to_json(), ensure_ascii=False)``, written without the dict (the hot
    path of `changelog --json` over a long history)."""
    pr, breaking, authors = c.pr, c.breaking, c.authors
    if (
        (pr is not None and type(pr) is not int)
        or type(breaking) is not bool
        or type(authors) is not tuple
    ):
        return json.dumps(c.to_json(), ensure_ascii=False)
    key = (c.kind, c.type, c.scope)
    notes = c.notes
    return (
        f"{_HEADS.get(key) or _head_json(key)}{escape_json(c.subject)}, "
        f'"pr": {"null" if pr is None else int.__repr__(pr)}, "sha": {escape_json(c.sha)}, '
        f'"breaking": {"true" if breaking else "false"}, '
        f'"notes": {json.dumps(list(notes), ensure_ascii=False) if notes else "[]"}, '
        f'"authors": {_AUTHORS_JSON.get(authors) or _authors_json(authors)}}}'
    )


def _from_header(commit: Commit, h: Header, authors: tuple[str, ...], **kw: Any) -> Change:
    return Change(
        "commit",
        h.type,
        ",".join(h.scopes) or None,
        h.text or h.subject,
        h.pr,
        commit.sha,
        h.breaking,
        authors,
        commit.subject,
        **kw,
    )


def _identity(h: Header) -> tuple[str, tuple[str, ...], bool, str]:
    """What makes two conventional lines of one commit the same change (the PR suffix is
    not part of it: the squash's subject has one, the body's lines do not)."""
    return h.type, h.scopes, h.breaking, h.subject


# Memos of what a long history repeats (authors, co-author lines, subject heads): each
# Change shares one tuple or string instead of a copy of its own. Bounded, since a server
# process outlives one history.
_MEMO_SIZE = 1 << 14
_SOLO: dict[str, tuple[str, ...]] = {}
_NAMES: dict[str, str] = {}
_TEAMS: dict[tuple[str, ...], tuple[str, ...]] = {}
_KNOWN_HEADS: dict[str, tuple[str, str, str | None, bool]] = {}


def _solo(name: str) -> tuple[str, ...]:
    """``(name,)``, one tuple per distinct author."""
    got = _SOLO.get(name)
    if got is None:
        if len(_SOLO) >= _MEMO_SIZE:
            _SOLO.clear()
        got = _SOLO[name] = (name,)
    return got


def _authors(name: str, co_authors: tuple[str, ...]) -> tuple[str, ...]:
    """The author, then each co-author's name (its ``<email>`` dropped) not already there."""
    if not co_authors:
        return _solo(name)
    names = [_solo(name)[0]]  # one string per author, as in _solo
    for co in co_authors:
        n = _NAMES.get(co)
        if n is None:
            if len(_NAMES) >= _MEMO_SIZE:
                _NAMES.clear()
            n = _NAMES[co] = _EMAIL.sub("", co)
        if n and n not in names:
            names.append(n)
    team = tuple(names)
    got = _TEAMS.get(team)
    if got is None:
        if len(_TEAMS) >= _MEMO_SIZE:
            _TEAMS.clear()
        got = _TEAMS[team] = team
    return got


def _known_head(head: str, m: re.Match[str]) -> tuple[str, str, str | None, bool]:
    """A clean subject's head (`type(scope)!: `, ``m`` its match) read: the head itself,
    the type lower-cased, the scope and whether it has `!`; memoized per distinct head."""
    written, scope, bang, _, _ = m.groups()
    if len(_KNOWN_HEADS) >= _MEMO_SIZE:
        _KNOWN_HEADS.clear()
    known = _KNOWN_HEADS[head] = (head, written.lower(), scope, bang is not None)
    return known


def changes_of(
    commit: Commit,
    *,
    body_entries: bool = False,
    body_types: Container[str] = STANDARD_TYPES,
    wanted: Container[str] | None = None,
) -> list[Change]:
    """Every change ``commit`` stands for (see the module docstring). With ``wanted``, a
    clean subject of another type that is not breaking (no `!`, and a body with no
    `BREAKING` in it) and brings no body entries is dismissed unbuilt (the hot path of a
    changelog over a long history)."""
    subject = commit.subject
    m = clean_match(subject)
    if m is None:
        return parsed_changes(commit, body_entries=body_entries, body_types=body_types)
    # A clean subject is the common case, in one regular expression: what `parse_message`
    # would say of it is known (no merge, no `Revert "..."`, the PR its suffix names), and
    # a body adds only co-authors, breaking notes, a reverted sha and body entries. What
    # comes before the subject (`type(scope)!: `) gives the type, scope and `!`, read
    # once per distinct head.
    start = m.start(4)
    head = subject[:start]
    known = _KNOWN_HEADS.get(head) or _known_head(head, m)
    head, ctype, scope, bang = known
    body = commit.body
    if (
        wanted is not None
        and not bang
        and ctype not in wanted
        and not (body and (body_entries or "BREAKING" in body))
    ):
        return []
    pr_text = m.group(5)
    pr = int(pr_text) if pr_text else None
    text = subject[start:]
    if not body:
        name = commit.author_name
        only = Change(
            "commit",
            ctype,
            scope,
            text,
            pr,
            commit.sha,
            bang,
            _SOLO.get(name) or _solo(name),
            text,
        )
        only._head = head
        return [only]
    co_authors, notes = trailers(body)
    authors = _authors(commit.author_name, co_authors)
    main = Change(
        "commit", ctype, scope, text, pr, commit.sha, bang or bool(notes), authors, text, notes
    )
    main._head = head
    if ctype == "revert":
        main.reverts = m.group("subject")
        main.reverts_sha = reverted_commit(body)
    if not body_entries:
        return [main]
    return [main, *_body_changes(commit, header_of_match(m), authors, body_types)]


def parsed_changes(
    commit: Commit, *, body_entries: bool = False, body_types: Container[str] = STANDARD_TYPES
) -> list[Change]:
    """`changes_of` through the whole `parse_message`, whatever the subject: the reference
    its fast path for clean subjects agrees with."""
    subject = commit.subject
    msg = parse_message(subject, commit.body)
    authors = _authors(commit.author_name, msg.co_authors)
    header = msg.header
    if msg.revert_of is not None and (header is None or header.type != "revert"):
        return [
            Change(
                "revert",
                None,
                None,
                msg.revert_of,
                msg.pr,
                commit.sha,
                msg.breaking,
                authors,
                subject,
                msg.breaking_notes,
                reverts=msg.revert_of,
                reverts_sha=msg.reverted_sha,
            )
        ]
    if header is None:
        kind: Kind = "merge" if _PR_MERGE.match(subject) else "other"
        if msg.merge and kind == "other":
            return []  # `Merge branch ...`: the merged commits speak for themselves
        return [
            Change(
                kind,
                None,
                None,
                subject,
                msg.pr,
                commit.sha,
                msg.breaking,
                authors,
                subject,
                msg.breaking_notes,
            )
        ]
    main = _from_header(commit, header, authors, notes=msg.breaking_notes)
    main.breaking = msg.breaking
    if header.type == "revert":
        main.reverts, main.reverts_sha = msg.revert_of, msg.reverted_sha
    if not body_entries:
        return [main]
    return [main, *_body_changes(commit, header, authors, body_types)]


def _body_changes(
    commit: Commit, header: Header, authors: tuple[str, ...], body_types: Container[str]
) -> list[Change]:
    """The body entries of a commit whose subject is ``header``.

    A one-commit PR's squash repeats its subject in the body, and a commit pushed twice
    repeats a line: only an exact repeat is the same change. The same text in another scope
    (`fix(gitlab): x`, `fix(gitea): x`) is another one."""
    out: list[Change] = []
    seen = {_identity(header)}
    for h in body_headers(commit.body, body_types):
        key = _identity(h)
        if key in seen:
            continue
        seen.add(key)
        extra = _from_header(commit, h, authors, extra=True)
        extra.pr = h.pr or header.pr
        out.append(extra)
    return out


def touches(commit: Commit, paths: Sequence[str]) -> bool:
    """Whether ``commit`` changed a file under one of ``paths`` (a monorepo package's
    directories or files); every commit does when ``paths`` is empty."""
    if not paths:
        return True
    prefixes = tuple(p.rstrip("/") + "/" for p in paths)
    return any(f in paths or f.startswith(prefixes) for f in commit.files)


def cancel_reverts(changes: Sequence[Change]) -> list[Change]:
    """``changes`` (newest first) without each revert and the commit it reverts when both
    are here: matched by the reverted commit's sha when the message names it, else by its
    subject line. A revert of a revert cancels that revert, so the original stays."""
    by_line: dict[str, list[int]] = {}
    by_sha: dict[str, list[int]] = {}
    for i, c in enumerate(changes):
        by_line.setdefault(c.line, []).append(i)
        by_sha.setdefault(c.sha, []).append(i)
    gone: set[int] = set()
    for i, c in enumerate(changes):
        if i in gone or c.extra or (c.reverts is None and c.reverts_sha is None):
            continue
        targets: list[int] = []
        if c.reverts_sha:
            targets = next((ix for sha, ix in by_sha.items() if sha.startswith(c.reverts_sha)), [])
        if not targets and c.reverts is not None:
            older = [j for j in by_line.get(c.reverts, []) if j > i and j not in gone]
            if older:
                sha = changes[older[0]].sha
                targets = by_sha[sha]
        targets = [j for j in targets if j > i and j not in gone]
        if targets:
            gone.update(targets)
            gone.update(by_sha[c.sha])
    return [c for i, c in enumerate(changes) if i not in gone]
