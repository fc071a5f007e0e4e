"""What git says about a repository, as plain records: a tag and a commit. Pure code (release
intelligence, the changelog, version rules) reads these without importing the module that
runs git (`steward.history.git`)."""

from __future__ import annotations

from dataclasses import dataclass

from steward.conventional import Message, parse_message


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag, peeled to its commit; ``date`` is the tagger date (commit date if lightweight)
    and ``oid`` the tag's own object id (the commit's for a lightweight tag)."""

    name: str
    sha: str
    date: str  # ISO 8601 with offset
    oid: str = ""


@dataclass(slots=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    date: str  # author date, ISO 8601 with offset
    subject: str
    body: str
    files: tuple[str, ...] = ()

    @classmethod
    def from_header(cls, header: str, files: tuple[str, ...] = ()) -> Commit | None:
        f = header.split("\n", 6)
        if len(f) < 6:
            return None
        body = f[6].strip() if len(f) == 7 else ""
        return cls(f[0], tuple(f[1].split()), f[2], f[3], f[4], f[5], body, files)

    @property
    def message(self) -> Message:
        """The conventional parse of subject and body (trailers, breaking notes, PR, ...).

        Parsed on each access (no cache, so a commit stays small): keep the result."""
        return parse_message(self.subject, self.body)

    @property
    def trailers(self) -> tuple[tuple[str, str], ...]:
        return self.message.footers
