"""Write a rendered changelog into the project's CHANGELOG file without losing anything.

`steward changelog --output` runs in CI on whatever checkout it gets. A shallow clone sees
no tags, so its render has none of the released sections; written as is it would erase the
project's history. So the existing file is merged with the render (`splice`: released
sections and the hand-written intro are kept as they are), and when the file has released
sections the render does not know the write is refused unless ``force``: the history is
probably incomplete, and the regenerated Unreleased part would be wrong. With ``force`` the
file is written and those sections are still kept.

The file keeps its line endings (CRLF stays CRLF) and its UTF-8 BOM, is replaced atomically
with its permissions, and a symlink is followed only inside ``root``; a device, a FIFO or a
socket is never read nor replaced (`steward.workspace`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from steward.errors import UsageError
from steward.fsutil import atomic_write_text
from steward.release.changelog.splice import splice_checked
from steward.workspace import Limit, read_text, write_target

Outcome = Literal["created", "updated", "up to date", "would be created", "would be updated"]

_BOM = "\ufeff"


def _uses_crlf(text: str) -> bool:
    crlf = text.count("\r\n")
    return crlf > 0 and crlf >= text.count("\n") - crlf


def update_changelog(
    path: Path,
    rendered: str,
    names: Mapping[str, str],
    *,
    root: Path,
    force: bool,
    dry_run: bool,
) -> Outcome:
    """Merge ``rendered`` into the changelog at ``path`` (relative paths are inside ``root``).

    ``names`` maps each release's tag name and version string to its key (the tag), for the
    releases the render was made from. Returns what happened (or would, with ``dry_run``).
    Raises a one-line ``UsageError`` (exit 2) for released sections the render lacks (unless
    ``force``), a non-UTF-8 file, a missing directory, or a symlink leading outside ``root``;
    the file is then untouched.
    """
    if not path.is_absolute():
        path = root / path
    target = write_target(path, root=root)  # checks before any work, dry run included
    exists = target.exists()
    old = read_text(target, Limit.CHANGELOG, "changelog", error=UsageError) if exists else None
    if old is None:
        new = rendered
    else:
        bom = old.startswith(_BOM)
        body = old[1:] if bom else old
        fresh = rendered.replace("\r\n", "\n")
        if _uses_crlf(body):
            fresh = fresh.replace("\n", "\r\n")
        result = splice_checked(body, fresh, names)
        if result.lacking and not force:
            raise UsageError(
                f"{path}: the new render lacks released sections {', '.join(result.lacking)} "
                "that the file has (history incomplete? e.g. a shallow clone without tags); "
                "use --force to write anyway, keeping those sections as they are"
            )
        new = (_BOM if bom else "") + result.text
    if new == old:
        return "up to date"
    if dry_run:
        return "would be created" if old is None else "would be updated"
    atomic_write_text(path, new, root=root, newline="")
    return "created" if old is None else "updated"
