"""Release intelligence on a real repository: reads git (through `steward.history`) and
feeds the pure functions of `tags`, `changelog`, `version` and `notes`.

Nothing is computed from a partial history: a shallow clone (GitHub Actions' default
`fetch-depth: 1`) is refused with one line that says what to do, unless the caller asks to
deepen it (`--fetch`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from steward.config.release import ChangelogConfig, VersionConfig
from steward.errors import GitError, UsageError
from steward.history.git import (
    fetch_history,
    fetches_no_tags,
    grep_subjects,
    head_sha,
    iter_commits,
    probe,
    read_tags,
    remote_url,
)
from steward.history.lines import LineState, extend_line, tags_on_line
from steward.history.progress import Progress
from steward.history.records import Commit, Tag
from steward.release.changelog.build import Changelog, build_changelog
from steward.release.changes import Change, body_types, changes_of
from steward.release.membership import Judge, Membership, Reverted, Walk, named_text, names
from steward.release.tags import Line, Release, TagScheme, classify_tags, select_line
from steward.release.version import NextVersion, Phase, bump_level, next_version

SHALLOW_HINT = (
    "{repo} is a shallow clone: its history and tags are incomplete, so versions and "
    "changelogs computed from it would be wrong. Run with --fetch to deepen it, or check "
    "out with `fetch-depth: 0` (actions/checkout)."
)


NO_TAGS_HINT = (
    "{repo} was cloned without tags (remote.origin.tagOpt is --no-tags): its releases are "
    "unknown, so versions and changelogs computed from it would be wrong. Run with --fetch "
    "to fetch them."
)


@dataclass(frozen=True, slots=True)
class Checked:
    """A repository whose history may be trusted: HEAD and every tag, read once for the
    whole command."""

    head: str | None
    tags: list[Tag]
    git_dir: Path


def require_complete(repo: Path, *, fetch: bool = False) -> Checked:
    """Refuse a shallow clone or one without tags (exit 2), or deepen it and fetch the
    tags when ``fetch``; return HEAD and the tags (two git processes in the usual case)."""
    found = probe(repo)
    if fetch:
        fetch_history(repo)
        found = probe(repo)
    elif found.shallow:
        raise UsageError(SHALLOW_HINT.format(repo=repo))
    tags = read_tags(repo)
    if not fetch and not tags and fetches_no_tags(repo):
        raise UsageError(NO_TAGS_HINT.format(repo=repo))
    return Checked(found.head, tags, found.git_dir)


@dataclass(slots=True)
class Scope:
    """What one package (or the whole repository) releases: tags, and the commits that
    are its own (see `steward.release.membership`)."""

    version: VersionConfig
    changelog: ChangelogConfig
    tag_pattern: str | None = None  # None: version.tag_pattern, every other tag reported
    paths: tuple[str, ...] = ()  # empty: every commit counts
    name: str | None = None
    scopes: frozenset[str] = frozenset()  # conventional scopes that count too (opt-in)
    # The other packages releasing under the same tags (lerna's fixed mode): one version.
    fixed: tuple[Membership, ...] = ()

    def membership(self) -> Membership:
        return Membership(self.paths, self.scopes)

    def free_paths(self) -> frozenset[str]:
        """Files a release bump may change in any way: the changelog steward writes, and a
        configured version file."""
        return frozenset(p for p in (self.changelog.output, self.version.version_file) if p)


def read_line(
    repo: Path,
    scope: Scope,
    all_tags: Sequence[Tag] | None = None,
    *,
    known: LineState | None = None,
    checked: Checked | None = None,
) -> Line:
    """The release tags of ``scope`` as seen from HEAD (see `steward.release.tags.Line`);
    ``all_tags`` or ``checked`` save reading the tags (and HEAD) again for each package;
    ``known``, the line found at an earlier HEAD (a cache), saves the walk when HEAD
    descends from it."""
    if checked is not None:
        raw: Sequence[Tag] = checked.tags if all_tags is None else all_tags
        head = checked.head
    else:
        raw = read_tags(repo) if all_tags is None else all_tags
        head = head_sha(repo)
    tags = classify_tags(raw, scope.version, scope.tag_pattern)
    state: LineState | None = None
    if head is not None and tags.releases:
        if known is not None:
            state = extend_line(repo, known, head, {r.tag.name: r.tag for r in tags.releases})
        if state is None:
            scheme = TagScheme(scope.tag_pattern or scope.version.tag_pattern)
            spellings = {
                r.tag.name: tuple(
                    v for v in dict.fromkeys([scheme.version_text(r.tag.name), str(r.version)]) if v
                )
                for r in tags.releases
            }
            state = tags_on_line(
                repo, head, [r.tag for r in tags.releases], spellings, scope.free_paths()
            )
    line = select_line(tags, state.on_line if state else set())
    line.state = state
    line.head = head
    return line


def _commits(
    repo: Path,
    include: list[str],
    exclude: list[str],
    scope: Scope,
    *,
    topo: bool,
    progress: Progress | None = None,
) -> Iterator[Commit]:
    """Every commit in range, with the files it changed when ``scope`` is a package: release
    ranks need every commit's parent links, so paths filter after assignment, not in git.
    A package's commits come as a `Walk` whose judge says which are its own."""
    if not include:
        return iter(())
    commits = iter_commits(
        repo, include, exclude, topo=topo, files=bool(scope.paths), progress=progress
    )
    return Walk(commits, _judge(repo, [scope.membership()])) if scope.paths else commits


def _judge(repo: Path, members: Sequence[Membership]) -> Judge:
    """A judge of ``members`` that reads a reverted commit from ``repo`` when a revert's own
    files and scope leave it undecided: by the sha `git revert` names (`git log
    --no-walk`), else by the subject line GitHub's revert names (`git log --grep` back from
    the revert); each commit read once."""
    read: dict[str, Commit | None] = {}

    def by_sha(sha: str) -> Commit | None:
        if sha not in read:
            try:
                found = list(iter_commits(repo, [sha], no_walk=True, files=True))
            except GitError:  # not in this repository (a rewritten or foreign commit)
                found = []
            read[sha] = found[0] if found else None
            if found:
                read[found[0].sha] = found[0]
        return read[sha]

    def lookup(ref: Reverted) -> Commit | None:
        hit = by_sha(ref.sha) if ref.sha else None
        if hit is None and ref.line and ref.before:
            sha = _newest_with_subject(repo, ref.line, ref.before)
            hit = by_sha(sha) if sha else None
        return hit

    return Judge(members, lookup)


def _newest_with_subject(repo: Path, line: str, before: Sequence[str]) -> str | None:
    """The newest commit reachable from ``before`` whose subject a revert names as
    ``line`` (`membership.names`): the first match is almost always it (git stops there);
    else a few more matches are read."""
    if not named_text(line):
        return None
    for limit in (1, 50):
        try:
            rows = grep_subjects(repo, named_text(line), before, limit)
        except GitError:
            return None
        for sha, subject in rows:
            if names(line, subject):
                return sha
        if len(rows) < limit:
            return None
    return None


def changelog(
    repo: Path,
    scope: Scope,
    *,
    line: Line | None = None,
    unreleased_only: bool = False,
    progress: Progress | None = None,
    url: str | None,
) -> Changelog:
    """The changelog of HEAD's line: its releases, older releases of other lines, and
    Unreleased; ``url``: the repository's web address (`repository_url`), for links."""
    line = line or read_line(repo, scope)
    cfg = scope.changelog
    releases: list[Release] = list(line.shown)
    if not cfg.include_prereleases:
        releases = [r for r in releases if not r.version.is_prerelease]
    head = line.head
    tips = [r.tag.sha for r in releases]
    if unreleased_only:
        include, exclude = ([head] if head else []), tips
    else:
        include, exclude = [*tips, *([head] if head else [])], []
    # Unreleased alone needs no topological order (every commit has one rank), and git's
    # topological sort against many excluded tags is most of a warm run's time.
    data = build_changelog(
        _commits(repo, include, exclude, scope, topo=not unreleased_only, progress=progress),
        releases,
        cfg,
        repository_url=url,
        ignored_tags=line.tags.ignored,
        unreleased_only=unreleased_only,
        paths=scope.paths,
    )
    data.tagged = bool(releases)
    data.off_line = line.off_line()
    return data


def repository_url(repo: Path, scope: Scope) -> str | None:
    """Where links point: `changelog.repository_url`, else the `origin` remote's web URL."""
    cfg = scope.changelog
    return cfg.repository_url.rstrip("/") if cfg.repository_url else remote_url(repo)


def _head(repo: Path, line: Line | None) -> str | None:
    """HEAD as ``line`` saw it (read once per command), else as git says now."""
    if line is not None and line.head is not None:
        return line.head
    return head_sha(repo)


def commits_since(
    repo: Path, scope: Scope, exclude: list[str], line: Line | None = None
) -> Iterator[Commit]:
    """The commits HEAD has and no ``exclude`` tip has that are ``scope``'s (its paths over
    time, its scopes, reverts of its commits), newest first; ``line``: HEAD's line as
    `read_line` found it, whose HEAD is used."""
    head = _head(repo, line)
    if head is None:
        return
    commits = _commits(repo, [head], exclude, scope, topo=False)
    holds = commits.holds if isinstance(commits, Walk) else None
    for commit in commits:
        if holds is None or holds(commit):
            yield commit


def final_tips(line: Line) -> list[str]:
    """What is already released: every shown final release (pre-releases fold in)."""
    return [r.tag.sha for r in line.shown if not r.version.is_prerelease]


def unreleased_changes(repo: Path, scope: Scope, line: Line) -> list[Change]:
    """The changes that make ``scope``'s next version: those of its commits HEAD has and
    no shown final release has. In a fixed group (``scope.fixed``), a package with
    something to release releases at the group's version: its changes then come with the
    other members' (see `fixed_changes`)."""
    head = _head(repo, line)
    if head is None:
        return []
    cfg = scope.changelog
    types = body_types(cfg.sections, scope.version)
    judge = _judge(repo, [scope.membership(), *scope.fixed]) if scope.paths else None
    own: list[Change] = []
    group: list[Change] = []
    for commit in _commits(repo, [head], final_tips(line), scope, topo=False):
        mask = judge.mask(commit) if judge is not None else 1
        if mask:
            changes = changes_of(commit, body_entries=cfg.body_entries, body_types=types)
            group.extend(changes)
            if mask & 1:
                own.extend(changes)
    return fixed_changes(scope, line, own, group)


def fixed_changes(scope: Scope, line: Line, own: list[Change], group: list[Change]) -> list[Change]:
    """lerna's fixed mode: packages sharing tags share one version, the largest bump among
    them, and only those with something of their own to release are released. So a member
    that releases counts its group's changes (``group``, newest first, each commit once);
    the others count their own."""
    if not scope.fixed:
        return own
    base = line.current_final
    releases = bump_level(own, scope.version, base.version if base else None) is not None
    return group if releases else own


def unreleased_by_scope(
    repo: Path, scopes: Sequence[Scope], lines: Sequence[Line]
) -> list[list[Change]]:
    """`unreleased_changes` for every package in one `git log --name-only` pass.

    In topological order (children first), each commit inherits from its children whether
    HEAD reaches it and which packages' releases do (a bit each): it is unreleased for a
    package when HEAD reaches it, none of that package's releases does, and it is the
    package's (`steward.release.membership`: a revert's target may be read on its own).
    Packages sharing tags (a fixed group) share one version (see `fixed_changes`).
    """
    head = _head(repo, lines[0] if lines else None)
    if head is None:
        return [[] for _ in scopes]
    own: dict[str, int] = {}
    for bit, line in enumerate(lines):
        for sha in final_tips(line):
            own[sha] = own.get(sha, 0) | (1 << bit)
    out: list[list[Change]] = [[] for _ in scopes]
    groups: dict[str, int] = {}  # tag pattern -> its fixed members' bits
    for bit, scope in enumerate(scopes):
        if scope.fixed:
            key = scope.tag_pattern or scope.version.tag_pattern
            groups[key] = groups.get(key, 0) | (1 << bit)
    grouped: dict[str, list[Change]] = {key: [] for key in groups}
    judge = _judge(repo, [scope.membership() for scope in scopes])
    every = (1 << len(scopes)) - 1
    inherited: dict[str, tuple[bool, int]] = {head: (True, 0)}
    tips = [head, *own]
    for commit in iter_commits(repo, tips, topo=True, files=True):
        from_head, mask = inherited.pop(commit.sha, (False, 0))
        mask |= own.get(commit.sha, 0)
        for parent in commit.parents:
            h, m = inherited.get(parent, (False, 0))
            inherited[parent] = (h or from_head, m | mask)
        if not from_head or mask == every:
            continue
        theirs = judge.mask(commit) & ~mask
        if not theirs:
            continue
        read: dict[int, list[Change]] = {}
        for bit, scope in enumerate(scopes):
            if theirs & (1 << bit):
                cfg = scope.changelog
                types = body_types(cfg.sections, scope.version)
                read[bit] = changes_of(commit, body_entries=cfg.body_entries, body_types=types)
                out[bit].extend(read[bit])
        for key, bits in groups.items():
            if theirs & bits:  # once per group: the first member's reading
                grouped[key].extend(read[(theirs & bits & -(theirs & bits)).bit_length() - 1])
    return [
        fixed_changes(scope, line, changes, grouped.get(scope.tag_pattern or "", changes))
        if scope.fixed
        else changes
        for scope, line, changes in zip(scopes, lines, out, strict=True)
    ]


def next_version_of(
    repo: Path,
    scope: Scope,
    *,
    line: Line | None = None,
    prerelease: Phase | None = None,
    initial: Version | None = None,
    changes: list[Change] | None = None,
) -> NextVersion:
    """The next version of HEAD's line (see `steward.release.version.next_version`);
    ``changes``: the unreleased changes when already read (see `unreleased_by_scope`)."""
    line = line or read_line(repo, scope)
    base = line.current_final
    return next_version(
        base.version if base else None,
        changes if changes is not None else unreleased_changes(repo, scope, line),
        line.versions,
        scope.version,
        prerelease=prerelease,
        initial=initial,
    )
