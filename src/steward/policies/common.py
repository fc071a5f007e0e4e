"""Helpers shared by several policies: reading untrusted PR text, label arithmetic."""

from __future__ import annotations

import re

from steward.text import MAX_BODY, cap

# Closing keywords GitHub recognises, followed by #N, owner/repo#N or an issue URL.
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?[ \t]{0,4}"
    r"(?:(?P<repo>[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100})?#(?P<num>[0-9]{1,9})"
    r"|https?://[A-Za-z0-9.-]{1,100}/(?P<urlrepo>[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100})"
    r"/issues/(?P<urlnum>[0-9]{1,9}))",
    re.IGNORECASE,
)
# The PR template's field, e.g. "**Issue number:** #123" or "Issue number: https://.../issues/9".
_FIELD = re.compile(
    r"^[ \t>*_#-]{0,8}issue number[ \t*_]{0,4}:[ \t*_]{0,4}(?P<rest>[^\r\n]{0,300})",
    re.IGNORECASE | re.MULTILINE,
)
_REF = re.compile(
    r"(?:(?P<repo>[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100})?#(?P<num>[0-9]{1,9})"
    r"|https?://[A-Za-z0-9.-]{1,100}/(?P<urlrepo>[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100})"
    r"/issues/(?P<urlnum>[0-9]{1,9}))"
)
_BARE_NUMBER = re.compile(r"[ \t]{0,4}(?P<num>[0-9]{1,9})\b")


def strip_html_comments(text: str) -> str:
    """Drop ``<!-- ... -->`` (template hints); an unclosed one hides the rest, as on GitHub.

    A scan with `str.find`, not a regex: a lazy ``<!--.*?-->`` is quadratic on a body full
    of unclosed openers.
    """
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start == -1:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        end = text.find("-->", start + 4)
        if end == -1:
            break
        pos = end + 3
    return "".join(out)


def related_issues(body: str, repo_full_name: str) -> tuple[int, ...]:
    """Issue numbers in this repository that a PR body names as related.

    Reads the template's "Issue number:" field (``#12``, ``owner/repo#12``, an issue URL or a
    bare ``12``) and GitHub's closing keywords (``Fixes #12``); references to other
    repositories are not ours to label, and HTML comments (template hints) are skipped.
    """
    text = strip_html_comments(cap(body, MAX_BODY))
    found: list[int] = []
    own = repo_full_name.lower()

    def take(repo: str | None, num: str | None) -> None:
        if num is None:
            return
        if repo is not None and repo.lower() != own:
            return
        value = int(num)
        if value > 0 and value not in found:
            found.append(value)

    for m in _FIELD.finditer(text):
        rest = m.group("rest")
        refs = list(_REF.finditer(rest))
        for r in refs:
            take(r.group("repo") or r.group("urlrepo"), r.group("num") or r.group("urlnum"))
        bare = _BARE_NUMBER.match(rest) if not refs else None
        if bare is not None:  # "Issue number: 123", as authors often fill the field
            take(None, bare.group("num"))
    for m in _CLOSING.finditer(text):
        take(m.group("repo") or m.group("urlrepo"), m.group("num") or m.group("urlnum"))
    return tuple(found)


def has_text(body: str, needle: str) -> bool:
    """Case-insensitive substring test (no regex: the needle comes from config)."""
    return needle.casefold() in cap(body, MAX_BODY).casefold()
