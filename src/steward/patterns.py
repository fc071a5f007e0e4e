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
cannot run in linear time (backreferences ``\\1``/``(?P=name)``, lookahead/lookbehind); a
pydantic validator can let it propagate as a validation error. Syntax is Python's for
everything else (``(?P<name>...)``, ``(?i)``, ``\\d``, ``\\b``), with two differences: ``\\w``,
``\\d`` and ``\\s`` are ASCII-only (use ``\\pL`` for any letter), and ``$`` matches only at the
very end, not before a final newline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

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
        hint = ""
        if any(s in pattern for s in ("(?=", "(?!", "(?<=", "(?<!", "(?P=")) or any(
            f"\\{d}" in pattern for d in "123456789"
        ):
            hint = " (lookaround and backreferences are not supported: matching must be linear)"
        raise ValueError(
            f"{what}: invalid regular expression {pattern!r}: {reason}{hint}"
        ) from None


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
