"""`changelog --output`: rewrite only what changed, keeping released sections as they are.

Both the existing file and the fresh render are cut into: the head (everything before the
first release, Unreleased included), one block per release (from the first heading or
`<a name>` anchor line naming its tag or version, up to the next release's), and the trailing
link references. The result is the fresh head, then each release's block taken from the
existing file when it has one (hand edits survive byte for byte) or from the render when it
is new, then the fresh links plus any old link the render does not define.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"[\w.+-]+")
_LINK = re.compile(r"\[[^\]\n]+\]: \S")
_START = re.compile(r"(?:#{1,6}\s|<a\s+name=)")


@dataclass(slots=True)
class Parts:
    head: str
    blocks: dict[str, str]  # release key -> text
    order: list[str]
    links: list[str]


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
    current: list[str] = head
    key: str | None = None
    for line in lines[:end]:
        if _START.match(line):
            found = next((names[t] for t in _TOKEN.findall(line) if t in names), None)
            if found is not None and found != key and found not in blocks:
                key = found
                current = blocks[found] = []
                order.append(found)
        current.append(line)
    return Parts("".join(head), {k: "".join(v) for k, v in blocks.items()}, order, links)


def splice(old: str, new: str, names: Mapping[str, str]) -> str:
    """The new document with every release block the old one already has kept verbatim."""
    before = split(old, names)
    after = split(new, names)
    out = [after.head]
    for key in after.order:
        out.append(before.blocks.get(key, after.blocks[key]))
    for key in before.order:  # releases the render no longer has (e.g. written by hand)
        if key not in after.blocks:
            out.append(before.blocks[key])
    labels = {ln.split("]:", 1)[0] for ln in after.links}
    links = after.links + [ln for ln in before.links if ln.split("]:", 1)[0] not in labels]
    body = "".join(out)
    if links:
        if body and not body.endswith("\n"):
            body += "\n"
        body += "".join(ln if ln.endswith("\n") else ln + "\n" for ln in links)
    return body
