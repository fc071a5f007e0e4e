"""Regular expressions that users write in the config, matched in linear time.

A project's config (``changelog.exclude``, tag patterns, ...) holds expressions that run over
commit messages and titles anyone can write. Python's ``re`` backtracks: ``(a+)+$`` against
a long run of ``a`` followed by ``!`` takes longer than the age of the universe. These
expressions are compiled with RE2 (google-re2), whose matching time is linear in the input.

API, for the config validators and the code that matches:

``compile_user_pattern(pattern, *, what) -> UserPattern``
    One expression. ``what`` names where it came from (e.g. ``"changelog.exclude[2]"``) and
    appears in the error.
``compile_user_patterns(patterns, what) -> UserPattern``
    Several expressions ORed into one matcher (each checked alone first, so the error names
    the bad one); an empty list gives a matcher that never matches.
``UserPattern.search(text) -> PatternMatch | None``
    The first match anywhere in ``text``, with ``group()``, ``start()``, ``end()``, ``span()``
    in character offsets, like ``re.Match``.

Both raise ``ValueError`` naming ``what`` and the pattern when it is invalid or uses what RE2
cannot run in linear time (backreferences ``\\1``/``(?P=name)``, lookahead/lookbehind,
possessive quantifiers, atomic groups); the message names the construct and where it is,
and gives an RE2 form with the same matches when one is known (``re2_form``: a lookahead
ending the pattern, Python's ``\\Z``), since such patterns come copied from other tools'
configs. A pydantic validator can let it propagate as a validation error. Syntax is Python's for
everything else (``(?P<name>...)``, ``(?i)``, ``\\d``, ``\\b``), with two differences: ``\\w``,
``\\d`` and ``\\s`` are ASCII-only (use ``\\pL`` for any letter), and ``$`` matches only at the
very end, not before a final newline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol

import re2

# RE2's own limit on a compiled program; a pattern over it is refused, not slow.
_MAX_MEM = 8 << 20
_UNANCHORED = re2._Anchor.UNANCHORED
_NO_SPAN = (-1, -1)


class PatternMatch(Protocol):
    def group(self, *groups: int | str) -> Any: ...
    def start(self, group: int | str = 0) -> int: ...
    def end(self, group: int | str = 0) -> int: ...
    def span(self, group: int | str = 0) -> tuple[int, int]: ...


def _options() -> Any:
    opts = re2.Options()
    opts.log_errors = False  # RE2 would print each refusal on stderr; we raise instead
    opts.max_mem = _MAX_MEM
    return opts


def _compile(pattern: str, what: str) -> Any:
    if not isinstance(pattern, str):
        raise ValueError(f"{what}: expected a regular expression string, got {pattern!r}")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        found = first_refused(pattern)
        if found is not None:
            reason = f"{found.name} '{found.written}' at character {found.at + 1}: {found.why}"
            form = re2_form(pattern)
            if form is not None:
                reason += f"; the same strings match with: {form}"
        raise ValueError(f"{what}: invalid regular expression {pattern!r}: {reason}") from None


_LINEAR = (
    "RE2 runs no lookaround, backreferences, possessive quantifiers or atomic groups, so that "
    "matching stays linear"
)
# Group openers RE2 refuses, longest first where one is a prefix of another.
_GROUPS = (
    ("(?<=", "a lookbehind", _LINEAR),
    ("(?<!", "a negative lookbehind", _LINEAR),
    ("(?=", "a lookahead", _LINEAR),
    ("(?!", "a negative lookahead", _LINEAR),
    ("(?P=", "a backreference", _LINEAR),
    ("(?P>", "a recursion", _LINEAR),
    ("(?>", "an atomic group", _LINEAR),
    ("(?(", "a conditional group", _LINEAR),
    ("(?#", "a comment group", "RE2 has no comments inside a pattern"),
)
_QUANTIFIER = re.compile(r"\{[0-9]*(?:,[0-9]*)?\}")
_GROUP_SYNTAX = re.compile(r"\?(?:P?<[^>]*>|[A-Za-z-]*[:)])")
_FLAGS = re.compile(r"\(\?[A-Za-z-]+[:)]")
_META = frozenset("\\.^$|?*+()[]{}")


class Refused(NamedTuple):
    """A construct RE2 refuses: what it is, as written, where (0-based), and why."""

    name: str
    written: str
    at: int
    why: str


def _skip_class(pattern: str, i: int) -> int:
    """Past the character class opening at ``i`` (its ``]``, escapes and a leading ``]``)."""
    i += 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":  # a leading ] is a literal
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _escape_refused(pattern: str, i: int) -> Refused | None:
    """What RE2 refuses in the escape at ``i`` (outside a class), if anything."""
    nxt = pattern[i + 1 : i + 2]
    if nxt and nxt in "123456789":
        digits = re.match(r"[0-9]+", pattern[i + 1 :])
        return Refused("a backreference", "\\" + (digits.group() if digits else nxt), i, _LINEAR)
    if nxt == "k" and pattern[i + 2 : i + 3] in ("<", "'", "{"):
        return Refused("a backreference", "\\k", i, _LINEAR)
    if nxt == "Z":
        return Refused("Python's end of text", "\\Z", i, "RE2 spells it \\z")
    return None


def _scan(pattern: str) -> tuple[Refused | None, list[tuple[int, int]]]:
    """One pass over ``pattern``: the first construct RE2 refuses, and every group outside
    a character class as (start, end) spans, end past its ``)`` (-1 when unclosed)."""
    found: list[Refused] = []
    groups: list[tuple[int, int]] = []
    open_at: list[int] = []
    i = 0
    quantified = -1  # where the quantifier just read starts, -1 after anything else
    while i < len(pattern):
        c = pattern[i]
        q, quantified = quantified, -1
        if c == "\\":
            found += filter(None, [_escape_refused(pattern, i)])
            i += 2
        elif c == "[":
            i = _skip_class(pattern, i)
        elif c == "(":
            open_at.append(len(groups))
            groups.append((i, -1))
            opener = next((g for g in _GROUPS if pattern.startswith(g[0], i)), None)
            if opener is not None:
                found.append(Refused(opener[1], opener[0], i, opener[2]))
                i += len(opener[0])
            elif pattern.startswith("(?", i):
                m = _GROUP_SYNTAX.match(pattern, i + 1)
                i = m.end() if m is not None else i + 2
                if pattern[i - 1 : i] == ")":  # `(?i)`: flags, no group
                    groups.pop()
                    open_at.pop()
            else:
                i += 1
        elif c == ")":
            if open_at:
                k = open_at.pop()
                groups[k] = (groups[k][0], i + 1)
            i += 1
        elif c in "*+?" or (c == "{" and _QUANTIFIER.match(pattern, i)):
            if q >= 0 and c == "+":
                found.append(Refused("a possessive quantifier", pattern[q : i + 1], q, _LINEAR))
            if q < 0 or c not in "?+":  # `*?`: lazy, part of the quantifier before it
                quantified = i
            m = _QUANTIFIER.match(pattern, i) if c == "{" else None
            i = m.end() if m is not None else i + 1
        else:
            i += 1
    return (found[0] if found else None), groups


def first_refused(pattern: str) -> Refused | None:
    """The first construct of ``pattern`` that RE2 refuses and Python's ``re`` (or PCRE)
    has, or ``None`` when RE2's own reason is all there is to say."""
    return _scan(pattern)[0]


def re2_form(pattern: str) -> str | None:
    """An expression RE2 runs that a search finds in exactly the texts where ``pattern``'s
    (as Python's ``re`` reads it) is found, or ``None`` when none is known.

    Known: Python's ``\\Z`` (RE2's ``\\z``); ``X(?=R)`` ending the pattern, which is found
    where ``X(?:R)`` is; and ``X(?!L)`` ending it, L a literal optionally followed by ``.*``,
    ``.?``, ``.`` or ``.+`` (python-semantic-release's ``^build\\((?!deps\\): .+)``): after X,
    the end of the text, or at some character k a character other than L's, the first k
    characters being L's; with ``.``/``.+``, also all of L and then the end or a newline.
    """
    form = pattern
    for _ in range(16):
        found, groups = _scan(form)
        if found is None:
            break
        if found.written == "\\Z":
            form = form[: found.at] + "\\z" + form[found.at + 2 :]
            continue
        if found.written not in ("(?=", "(?!"):
            return None
        rewritten = _trailing_lookahead(form, found, groups)
        if rewritten is None:
            return None
        form = rewritten
    else:
        return None
    try:
        re2.compile(form, _options())
    except re2.error:
        return None
    return form if form != pattern else None


def _trailing_lookahead(pattern: str, found: Refused, groups: list[tuple[int, int]]) -> str | None:
    """``pattern`` with the lookahead ``found`` rewritten (see `re2_form`), when it ends the
    pattern outside any group or alternation; ``None`` otherwise."""
    end = next((e for s, e in groups if s == found.at), -1)
    prefix = pattern[: found.at]
    if end != len(pattern) or not _top_level(prefix):
        return None
    body = pattern[found.at + len(found.written) : end - 1]
    if found.written == "(?=":
        return f"{prefix}(?:{body})"
    if _FLAGS.search(pattern):  # (?i), (?s)...: a literal or `.` would mean something else
        return None
    parsed = _literal(body)
    if parsed is None or not parsed[0]:
        return None
    literal, needs_char = parsed
    alternatives = []
    for k, ch in enumerate(literal):
        diverge = f"[^{_in_class(ch)}]"
        if k == 0:
            alternatives += [diverge, "$"]
        else:
            alternatives.append(f"{_escaped(literal[:k])}(?:{diverge}|$)")
    if needs_char:  # all of L, then no character `.` matches
        alternatives.append(f"{_escaped(literal)}(?:\\n|$)")
    return f"{prefix}(?:{'|'.join(alternatives)})"


def _top_level(prefix: str) -> bool:
    """Whether what follows ``prefix`` is outside every group and no ``|`` of it is."""
    depth, i = 0, 0
    while i < len(prefix):
        c = prefix[i]
        if c == "[":
            i = _skip_class(prefix, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return False
        i += 2 if c == "\\" else 1
    return depth == 0


def _literal(body: str) -> tuple[str, bool] | None:
    """``body`` as (literal, whether a character must follow it): a run of plain or escaped
    characters, then nothing, ``.*``, ``.?``, ``.`` or ``.+``; ``None`` for anything else."""
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            e = body[i + 1 : i + 2]
            if e in ("n", "t"):
                out.append("\n" if e == "n" else "\t")
            elif e and not e.isalnum() and e != "_":
                out.append(e)
            else:
                return None
            i += 2
        elif c == ".":
            rest = body[i + 1 :]
            if rest not in ("", "*", "?", "+"):
                return None
            return "".join(out), rest in ("", "+")
        elif c in _META:
            return None
        else:
            out.append(c)
            i += 1
    return "".join(out), False


def _char(ch: str) -> str | None:
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if not ch.isprintable() or (ch.isspace() and ch != " "):
        return f"\\x{{{ord(ch):x}}}"
    return None


def _escaped(text: str) -> str:
    return "".join(_char(ch) or ("\\" + ch if ch in _META else ch) for ch in text)


def _in_class(ch: str) -> str:
    return _char(ch) or ("\\" + ch if ch in "\\]^-[" else ch)


class UserPattern:
    """A compiled user expression; ``pattern`` is the source as the user wrote it."""

    __slots__ = ("_regexp", "pattern")

    def __init__(self, pattern: str, regexp: Any) -> None:
        self.pattern = pattern
        self._regexp = regexp

    def matches(self, text: str) -> bool:
        """Whether the pattern occurs in ``text``: `search` without building a match object
        (one call into RE2; the hot path of a changelog over a long history)."""
        if self._regexp is None:
            return False
        raw = text.encode("utf-8")
        spans = self._regexp._regexp.Match(_UNANCHORED, raw, 0, len(raw))
        return bool(spans[0] != _NO_SPAN)

    def search(self, text: str) -> PatternMatch | None:
        if self._regexp is None:
            return None
        match: PatternMatch | None = self._regexp.search(text)
        return match

    def __repr__(self) -> str:
        return f"UserPattern({self.pattern!r})"


def compile_user_pattern(pattern: str, *, what: str) -> UserPattern:
    """``pattern`` compiled for linear-time matching; ValueError names ``what`` if invalid."""
    return UserPattern(pattern, _compile(pattern, what))


def compile_user_patterns(patterns: Iterable[str], what: str) -> UserPattern:
    """One matcher for any of ``patterns`` (checked one by one, so errors name the culprit)."""
    items = list(patterns)
    for i, p in enumerate(items):
        _compile(p, f"{what}[{i}]")
    if not items:
        return UserPattern("", None)
    joined = "|".join(f"(?:{p})" for p in items)
    return UserPattern(joined, _compile(joined, what))
