"""`changelog --output`: rewrite only what changed, keeping released sections as they are.

Both the existing file and the fresh render are cut into: the head (everything before the
first release, Unreleased included), one block per release, and the trailing link
references. A release block starts at the first heading or `<a name>` anchor line naming its
tag or version and runs to the next release's. Releases are recognised by ``names`` (the
render's tags and versions) and also by shape: an anchor naming a version, or a heading of
level 1-3 whose first word is one (``## v1.2.3``, ``## [1.2.3] - date``, ``# Version 1.2.3``).
The shape rule matters for the old file: its releases must be found even when the render
does not know them (a shallow clone, a deleted tag, hand-written history); otherwise they
would fall into the head, which is regenerated, and be lost.

The result is the merged head, then each release's block taken from the existing file when
it has one (hand edits survive byte for byte) or from the render when it is new, then the
existing file's releases the render lacks (kept, in their order: steward never drops a
released section), then the fresh links plus any old link the render does not define.

The head keeps the existing file's intro: the old head's lines before its Unreleased heading
or anchor (else before its first heading or anchor) are kept, followed by the render's head
from the same point, so a file written by the same template gets exactly the render's head.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[\w.+-]+")
_LINK = re.compile(r"\[[^\]\n]+\]: \S")
_START = re.compile(r"(?:#{1,6}\s|<a\s+name=)")
_ANCHOR = re.compile(r"""<a\s+name=["']?([^"'\s>]+)""")
# The first word of a release heading, after an optional "[" and "Version"/"Release".
_HEADING = re.compile(r"#{1,3}\s+(?:(?:version|release)\s+)?\[?([^\s\]()]+)", re.IGNORECASE)
_VERSIONLIKE = re.compile(r"v?\d+\.\d+\.\d+(?:[-.+]?[0-9A-Za-z][0-9A-Za-z.+-]*)?")
_UNRELEASED = re.compile(r"(?:#{1,6}\s.*|<a\s+name=[\"']?)\bunreleased\b", re.IGNORECASE)


@dataclass(slots=True)
class Parts:
    head: str
    blocks: dict[str, str]  # release key -> text
    order: list[str]
    links: list[str]
    labels: dict[str, str] = field(default_factory=dict)  # release key -> name as written


@dataclass(slots=True)
class Spliced:
    text: str
    # Releases the existing file has and the render does not know, as written in the file.
    lacking: list[str]


def _release_key(line: str, names: Mapping[str, str]) -> tuple[str, str] | None:
    """(key, label) when ``line`` starts a release section, else None."""
    if not _START.match(line):
        return None
    for token in _TOKEN.findall(line):
        if token in names:
            return names[token], token
    m = _ANCHOR.match(line) or _HEADING.match(line)
    if m is None:
        return None
    token = m.group(1)
    if not _VERSIONLIKE.fullmatch(token):
        return None
    bare = token[1:] if token[0] in "vV" else token
    for spelling in (bare, "v" + bare):
        if spelling in names:
            return names[spelling], token
    return bare, token  # "v1.2.3" and "1.2.3" in one file are one release


def split(text: str, names: Mapping[str, str]) -> Parts:
    """Cut ``text``; ``names`` maps every tag name and version string to a release key."""
    lines = text.splitlines(keepends=True)
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _LINK.match(lines[end - 1])):
        end -= 1
    while end < len(lines) and not lines[end].strip():
        end += 1
    links = [ln for ln in lines[end:] if ln.strip()]
    head: list[str] = []
    blocks: dict[str, list[str]] = {}
    order: list[str] = []
    labels: dict[str, str] = {}
    current: list[str] = head
    key: str | None = None
    for line in lines[:end]:
        found = _release_key(line, names)
        if found is not None and found[0] != key and found[0] not in blocks:
            key, label = found
            current = blocks[key] = []
            order.append(key)
            labels[key] = label
        current.append(line)
    return Parts("".join(head), {k: "".join(v) for k, v in blocks.items()}, order, links, labels)


def _intro_end(lines: list[str]) -> int:
    """Where the generated part of a head starts: its Unreleased marker, else its first
    heading or anchor, else the end (a head of prose only is all intro)."""
    for i, line in enumerate(lines):
        if _UNRELEASED.match(line):
            return i
    for i, line in enumerate(lines):
        if _START.match(line):
            return i
    return len(lines)


def merge_head(old: str, new: str) -> str:
    """The old head's intro followed by the new head's generated part."""
    if old == new:
        return new
    o = old.splitlines(keepends=True)
    n = new.splitlines(keepends=True)
    return "".join(o[: _intro_end(o)] + n[_intro_end(n) :])


def splice_checked(old: str, new: str, names: Mapping[str, str]) -> Spliced:
    """The merged document, and the releases of ``old`` that ``new`` does not know.

    A release the render knows (``names``) but does not print is not "lacking": the history
    has it, the template just leaves it out.
    """
    before = split(old, names)
    after = split(new, names)
    known = set(after.blocks) | set(names.values())
    lacking = [k for k in before.order if k not in known]
    out = [merge_head(before.head, after.head)]
    for key in after.order:
        out.append(before.blocks.get(key, after.blocks[key]))
    for key in before.order:  # releases the render does not have (e.g. written by hand)
        if key not in after.blocks:
            out.append(before.blocks[key])
    labels = {ln.split("]:", 1)[0] for ln in after.links}
    links = after.links + [ln for ln in before.links if ln.split("]:", 1)[0] not in labels]
    body = "".join(out)
    if links:
        if body and not body.endswith("\n"):
            body += "\n"
        body += "".join(ln if ln.endswith("\n") else ln + "\n" for ln in links)
    return Spliced(body, [before.labels[k] for k in lacking])
