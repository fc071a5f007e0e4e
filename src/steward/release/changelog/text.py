"""A changelog's text (a template's rendering, or JSON) for a repository, through the cache
of released sections when it holds (see `steward.release.changelog.cache`).

A full run renders everything, then also renders the Unreleased part alone: when the full
text starts with it (true of the built-in templates and JSON, whose released sections never
depend on what is unreleased), the rest is cached. A warm run reads only the unreleased
commits, renders them, and appends the cached rest: byte for byte what a full run prints.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from json.encoder import encode_basestring as escape_json
from pathlib import Path

import jinja2

from steward.history.git import read_tags
from steward.history.progress import Progress
from steward.release import repository
from steward.release.changelog.build import Changelog, VersionBlock
from steward.release.changelog.cache import ChangelogCache, Entry, cache_key, tags_signature
from steward.release.changelog.render import render_chunks
from steward.release.changes import entry_json
from steward.release.repository import Scope
from steward.release.tags import Line


@dataclass(slots=True)
class ChangelogText:
    """What a run produced: the text's pieces, the data (for notices), and the counts of
    commits left out (the released ones from the cache on a warm run)."""

    chunks: Iterable[str]  # a generator when nothing is cached: printed as it is made
    data: Changelog
    line: Line
    nonconforming_count: int
    nonconforming: list[tuple[str, str]] = field(default_factory=list)
    warm: bool = False

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def json_chunks(data: Changelog) -> Iterator[str]:
    """`{"versions": [...]}` one release a line: the first two pieces are the Unreleased
    part, the rest the released one."""
    if data.off_line:
        tags = [{"tag": name, "reason": why} for name, why in data.off_line]
        yield '{"off_line_tags": ' + json.dumps(tags, ensure_ascii=False) + ', "versions": [\n'
    else:
        yield '{"versions": [\n'
    for i, v in enumerate(data.versions):
        yield ("" if i == 0 else ",\n") + version_json(v)
    if not data.versions:
        yield ""
    yield "\n]}\n"


def version_json(v: VersionBlock) -> str:
    """``json.dumps(v.to_json(), ensure_ascii=False)``, each entry written directly
    (`entry_json`) rather than built as a dict and encoded."""
    if not all(x is None or type(x) is str for x in (v.version, v.tag, v.date)):
        return json.dumps(v.to_json(), ensure_ascii=False)
    sections = ", ".join(
        f'{{"title": {escape_json(s.title)}, "entries": [{", ".join(map(entry_json, s.entries))}]}}'
        for s in v.sections
    )
    return (
        f'{{"version": {_str_json(v.version)}, "tag": {_str_json(v.tag)}, '
        f'"date": {_str_json(v.date)}, "sections": [{sections}], '
        f'"reverts": [{", ".join(map(entry_json, v.reverts))}], '
        f'"pull_requests": [{", ".join(map(entry_json, v.merges))}], '
        f'"notes": {json.dumps(v.notes, ensure_ascii=False)}}}'
    )


def _str_json(text: str | None) -> str:
    return "null" if text is None else escape_json(text)


def _head(data: Changelog) -> Changelog:
    return Changelog(
        versions=data.versions[:1], repository_url=data.repository_url, off_line=data.off_line
    )


def changelog_text(
    repo: Path,
    scope: Scope,
    *,
    template: jinja2.Template | None,
    template_id: str | None,
    unreleased_only: bool = False,
    use_cache: bool = True,
    progress: Progress | None = None,
    checked: repository.Checked | None = None,
) -> ChangelogText:
    """The changelog of ``scope`` rendered with ``template`` (``None``: JSON).

    ``template_id`` names the output form in the cache (a built-in template, or "json");
    ``None`` (a repository's own template, whose released part may depend on anything)
    is never cached.
    """
    cfg = scope.changelog
    all_tags = checked.tags if checked is not None else read_tags(repo)
    url = repository.repository_url(repo, scope)
    cacheable = use_cache and not unreleased_only and template_id is not None
    gdir = checked.git_dir if checked is not None else None
    cache = ChangelogCache(repo, scope.name, gdir) if cacheable else None
    key = cache_key(
        asdict(scope.version),
        asdict(cfg),
        list(scope.paths),
        sorted(scope.scopes),
        scope.tag_pattern,
        url,
    )
    sig = tags_signature(all_tags)
    entry = cache.load(key, sig) if cache is not None else None
    line = repository.read_line(
        repo, scope, all_tags, known=entry.state if entry else None, checked=checked
    )
    tail = None
    if entry is not None and template_id is not None and entry.shown == line.signature():
        assert cache is not None
        tail = cache.tail(entry, template_id)

    def pieces(data: Changelog, *, head_only: bool = False) -> Iterator[str]:
        """The text; ``head_only``: just what comes before the released part."""
        if template is not None:
            return render_chunks(data, template)
        chunks = json_chunks(data)
        return itertools.islice(chunks, 2) if head_only else chunks

    if tail is not None and entry is not None and template_id is not None:
        data = repository.changelog(
            repo, scope, line=line, unreleased_only=True, progress=progress, url=url
        )
        head = "".join(pieces(data, head_only=True))
        if cache is not None and line.state is not None and line.state.head != entry.state.head:
            entry.state = line.state  # the next run walks from this HEAD
            cache.save(entry)
        return ChangelogText(
            [head, tail],
            data,
            line,
            data.nonconforming_unreleased + entry.nonconforming_released,
            (data.nonconforming + entry.nonconforming)[:3],
            warm=True,
        )
    data = repository.changelog(
        repo, scope, line=line, unreleased_only=unreleased_only, progress=progress, url=url
    )
    chunks: Iterable[str] = pieces(data)
    if cache is not None and template_id is not None and line.state is not None:
        full = "".join(chunks)
        chunks = [full]
        head = "".join(pieces(_head(data), head_only=True))
        if full.startswith(head):
            fresh = Entry(key, sig, line.state, line.signature())
            fresh.nonconforming_released = data.nonconforming_count - data.nonconforming_unreleased
            fresh.nonconforming = data.nonconforming[:3]
            if entry is not None and entry.shown == line.signature():
                fresh.tails.update(entry.tails)
            cache.save(fresh, template_id, full[len(head) :])
    return ChangelogText(chunks, data, line, data.nonconforming_count, data.nonconforming[:3])
