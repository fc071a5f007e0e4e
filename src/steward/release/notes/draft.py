"""Release notes with release-drafter's semantics, from merged PRs (or commits standing in
for them). Pure: the PRs come in, the notes come out.

Categories are ordered; a PR lands in the first one sharing a label with it; PRs with an
excluded label are left out; the rest go last under an "other" title. Each line follows
``change_template``; contributors (bots and maintainers left out) are credited; the next
version comes from labels: a major label -> major, a minor label -> minor, else patch (a
breaking change under 1.0 bumps the minor, like `steward version next`, unless configured);
offline, from the commits, by `steward version next`'s rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.version import Version

from steward.config.release import ReleaseNotesConfig, VersionConfig
from steward.domain import refs
from steward.domain.logins import Login
from steward.release.changes import Change
from steward.release.tags import TagScheme
from steward.release.version import Level, breaking_level, bump_level, plan_next


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int | None
    title: str
    author: str
    labels: tuple[str, ...] = ()
    co_authors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "author": self.author,
            "labels": list(self.labels),
        }


@dataclass(slots=True)
class Category:
    title: str
    pulls: list[PullRequest] = field(default_factory=list)


@dataclass(slots=True)
class Notes:
    body: str
    version: Version
    tag: str
    level: Level | None
    categories: list[Category]
    contributors: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": str(self.version),
            "tag": self.tag,
            "level": self.level,
            "categories": [
                {"title": c.title, "changes": [p.to_json() for p in c.pulls]}
                for c in self.categories
            ],
            "contributors": self.contributors,
            "body": self.body,
        }


def is_bot(login: str) -> bool:
    return login.endswith("[bot]") or login.endswith("-bot")


_LOGIN = re.compile(rf"{refs.LOGIN}(?:\[bot\])?")
# An `@` where GitHub would start a mention: not preceded by a word character.
_AT = re.compile(r"(?<!\w)@")


def mention(who: str) -> str:
    """``@login`` for a GitHub `Login` (from the API or a noreply e-mail); anything else is a
    name from git, written as it is (`display`), never a mention: ``octocat`` as a commit's
    author name is not the account ``octocat``, and ``@Jane Doe`` would mention nobody."""
    return f"@{who}" if isinstance(who, Login) and _LOGIN.fullmatch(who) else display(who)


def display(who: str) -> str:
    """``who`` as written; in a name, an ``@`` that would start a mention is left out, so a
    git author named ``@octocat`` mentions nobody either."""
    return who if isinstance(who, Login) else _AT.sub("", who)


def categorize(pulls: Iterable[PullRequest], cfg: ReleaseNotesConfig) -> list[Category]:
    """Non-empty categories in configured order, uncategorised last."""
    excluded = set(cfg.exclude_labels)
    cats = [Category(c.title) for c in cfg.categories]
    other = Category(cfg.uncategorized_title)
    for pr in pulls:
        labels = set(pr.labels)
        if labels & excluded:
            continue
        for spec, cat in zip(cfg.categories, cats, strict=True):
            if labels & set(spec.labels):
                cat.pulls.append(pr)
                break
        else:
            other.pulls.append(pr)
    return [c for c in [*cats, other] if c.pulls]


def level_from_labels(pulls: Iterable[PullRequest], cfg: ReleaseNotesConfig) -> Level | None:
    level: Level | None = None
    for pr in pulls:
        labels = set(pr.labels)
        if labels & set(cfg.major_labels):
            return "major"
        if labels & set(cfg.minor_labels):
            level = "minor"
        elif level is None:
            level = "patch"
    return level


def contributors(pulls: Iterable[PullRequest], cfg: ReleaseNotesConfig) -> list[str]:
    """Logins and names in order of first appearance; bots and maintainers left out. A
    login and a name spelt alike are two people: a name is not a login."""
    skip = {m.casefold() for m in cfg.maintainers}
    seen: dict[tuple[bool, str], str] = {}
    for pr in pulls:
        for who in (pr.author, *pr.co_authors):
            key = (isinstance(who, Login), who.casefold())
            if who and not is_bot(who) and key[1] not in skip and key not in seen:
                seen[key] = who
    return list(seen.values())


def change_line(pr: PullRequest, template: str) -> str:
    line = template
    if pr.number is None:
        line = line.replace(" (#$NUMBER)", "").replace("#$NUMBER", "").replace("$NUMBER", "")
    # One pass per placeholder, $TITLE last, so a title containing "$AUTHOR" stays literal.
    line = line.replace("$NUMBER", str(pr.number)).replace("@$AUTHOR", mention(pr.author))
    line = line.replace("$AUTHOR", display(pr.author))
    return line.replace("$TITLE", pr.title)


def _credit(names: list[str], none: str) -> str:
    at = [mention(n) for n in names]
    if not at:
        return none
    return at[0] if len(at) == 1 else ", ".join(at[:-1]) + " and " + at[-1]


def draft_notes(
    pulls: list[PullRequest],
    cfg: ReleaseNotesConfig,
    vcfg: VersionConfig,
    *,
    base: Version | None,
    existing: Iterable[Version] = (),
    initial: Version | None = None,
    commit_changes: Sequence[Change] | None = None,
) -> Notes:
    """Notes for ``pulls`` merged since final release ``base``. Offline, ``commit_changes``
    (the commits' changes) give the level by the version engine's rules, so the notes name the
    version `steward version next` does: labels made up from commit types cannot tell a
    `docs:` commit (no release) from a fix."""
    cats = categorize(pulls, cfg)
    kept = [p for c in cats for p in c.pulls]
    if commit_changes is not None:
        level = bump_level(commit_changes, vcfg, base)
    else:
        level = level_from_labels(kept, cfg)
        if level == "major":
            level = breaking_level(base, vcfg)
    nxt = plan_next(base, level, existing, initial=initial or Version(vcfg.initial_version))
    tag = TagScheme(vcfg.tag_pattern).format(nxt.version)
    changes = (
        "\n\n".join(
            f"## {c.title}\n\n" + "\n".join(change_line(p, cfg.change_template) for p in c.pulls)
            for c in cats
        )
        or "* No changes"
    )
    people = contributors(kept, cfg)
    body = (
        cfg.template.replace("$CONTRIBUTORS", _credit(people, cfg.no_contributors))
        .replace("$NEXT_VERSION", str(nxt.version))
        .replace("$CHANGES", changes)
    )
    return Notes(body, nxt.version, tag, level, cats, people)
