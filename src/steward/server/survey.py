"""The survey: a scheduled job that reads what the maintainers' page shows, so the page
never calls GitHub when it renders (GitHub down or rate limited does not break it).

Per repository of the installation (each with its own `.github/steward.yml`):

- **pending release**: the issues, open or closed, carrying the ``pending_release``
  section's label (one listing, every state, as the post-release announcement reads them);
- **blocked**: the open pull requests carrying a blocking label: the merge gate's
  ``block_labels`` and the related-issue check's block and reason labels (``do-not-merge``,
  ``need-issue``), read from the open items the sweep lists anyway (the issues listing
  marks a pull request with its ``pull_request`` key: `Issue.pull_request`);
- **sweep**: what the sweep would do now, planned and not applied
  (`shell.sweeper.plan_repository_sweep` on ``open_items``). Offline: no timelines are read
  (a survey every 15 minutes must cost little), so every item is judged by its last activity
  of any kind: the survey lists what the sweep will certainly do, and the sweep may also act
  on an item whose only recent activity was a bot's;
- **releases**: the last five published releases and, when one carries
  ``steward-run.json``, the pipeline run record read from it
  (`pipeline.release_assets.read_run_record`: through the adapter, capped, checked against
  GitHub's digest, parsed as untrusted data); a record already read for the same asset is
  reused, not downloaded again.

A survey covers at most `MAX_REPOSITORIES` of an installation's repositories, the first by
name (case-blind, so the same ones each time); how many it left out is saved with it and the
page says so, and their rows from an earlier survey are dropped.

And per installation, what the survey cost (`github.client.counting_reads`: answers,
reads, reads the ETag store answered with a 304) and the rate limit GitHub reported last.
Everything is saved in one transaction (`surveys.Surveys.save`); a survey that fails (GitHub
down, rate limited) saves nothing and is retried, and the page keeps showing the last one.
A repository that cannot be surveyed for reasons of its own (its config does not validate,
GitHub says it is gone or not allowed) is saved with its error instead, and the others are
surveyed all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from steward.errors import ConfigError, GitHubError, PayloadError, RateLimitError, ReleaseError
from steward.github.app_api import installation_repositories
from steward.github.client import ReadTally, counting_reads
from steward.github.repo_api import RepoApi
from steward.pipeline.report import RUN_RECORD, read_run_record
from steward.plan import AddLabels, CloseIssue, Comment, Plan, RemoveLabel
from steward.policies import merge_gate, pending_release, related_issue
from steward.policies import sweep as sweep_policy
from steward.server.surveys import (
    MAX_ERROR,
    MAX_LABEL,
    ApiBudget,
    BlockedPull,
    InstallationSurvey,
    Listing,
    PendingIssue,
    ReleaseRun,
    RepositorySurvey,
    RunAsset,
    Surveys,
    SweepItem,
    safe_url,
    title_text,
)
from steward.shell.sweeper import plan_repository_sweep

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.domain.models import Issue
    from steward.github.records import GitHubRelease
    from steward.server.processing import WorkerDeps

log = logging.getLogger(__name__)

RELEASES = 5
"""How many of the newest published releases a survey shows."""
MAX_REPOSITORIES = 200
"""How many of an installation's repositories one survey covers: each costs a few requests
(its config, open items, pending-release issues, releases and their assets), so an
installation of thousands would spend a large share of its hourly API budget every
``survey_interval_seconds``, and hold a worker that long."""
_OWN_FAULT = frozenset({403, 404, 410, 451})
"""GitHub's answers that say a repository cannot be read (gone, not allowed), not that
GitHub is unwell: the repository is saved with the error, the survey goes on."""


def process_survey(
    installation_id: int, deps: WorkerDeps, store: Surveys, now: datetime | None = None
) -> InstallationSurvey:
    """Survey the installation's repositories (at most `MAX_REPOSITORIES`) and save it;
    what was saved."""
    now = now or deps.clock()
    with counting_reads() as tally:
        listed = (
            deps.repositories_for(installation_id)
            if deps.repositories_for is not None
            else installation_repositories(deps.github_for(installation_id))
        )
        names, left_out = bounded(listed)
        before = store.repositories(installation_id)
        repos = [
            survey_repository(installation_id, name, deps, now, before.get(name)) for name in names
        ]
    budget = api_budget(tally)
    store.save(installation_id, now, repos, budget, left_out)
    log.info(
        "surveyed installation %d: %d repositories (%d left out), %d requests, %d of %d "
        "reads from the ETag store",
        installation_id,
        len(repos),
        left_out,
        budget.requests,
        budget.not_modified,
        budget.reads,
        extra={"installation": installation_id},
    )
    return InstallationSurvey(installation_id, now, budget, tuple(repos), left_out)


def bounded(names: Iterable[str]) -> tuple[list[str], int]:
    """The repositories a survey covers (each once, the first `MAX_REPOSITORIES` by name,
    case-blind) and how many it leaves out."""
    every = sorted(dict.fromkeys(names), key=lambda n: (n.casefold(), n))
    return every[:MAX_REPOSITORIES], max(0, len(every) - MAX_REPOSITORIES)


def api_budget(tally: ReadTally) -> ApiBudget:
    rate = tally.rate
    reset = None
    if rate is not None and rate.reset_at > 0:
        reset = datetime.fromtimestamp(rate.reset_at, UTC)
    return ApiBudget(
        requests=tally.requests,
        reads=tally.reads,
        not_modified=tally.not_modified,
        resource=rate.resource[:40] if rate is not None else None,
        limit=rate.limit if rate is not None else None,
        remaining=rate.remaining if rate is not None else None,
        reset_at=reset,
    )


def survey_repository(
    installation_id: int,
    full_name: str,
    deps: WorkerDeps,
    now: datetime,
    previous: RepositorySurvey | None = None,
) -> RepositorySurvey:
    """One repository's survey; its own faults (config, gone, not allowed, data GitHub
    would not send) become its ``error``, GitHub's (5xx, rate limits) are raised."""
    try:
        config = deps.config_for(installation_id, full_name)
        api = RepoApi(deps.github_for(installation_id), full_name)
        return _survey(api, config, now, previous)
    except ConfigError as exc:
        return RepositorySurvey(full_name, error=_error("config", exc))
    except PayloadError as exc:
        return RepositorySurvey(full_name, error=_error("GitHub's answer", exc))
    except GitHubError as exc:
        if isinstance(exc, RateLimitError) or exc.status not in _OWN_FAULT:
            raise
        return RepositorySurvey(full_name, error=_error("GitHub", exc))


def _error(what: str, exc: Exception) -> str:
    return title_text(f"{what}: {exc}", MAX_ERROR)


def _survey(
    api: RepoApi, config: StewardConfig, now: datetime, previous: RepositorySurvey | None
) -> RepositorySurvey:
    items = api.open_items()
    label = pending_release.POLICY.of(config).label
    blocking = blocking_labels(config)
    sweep_cfg = sweep_policy.POLICY.of(config)
    plan = plan_repository_sweep(items, now, config, None, None).plan
    return RepositorySurvey(
        repository=api.full_name,
        pending_label=title_text(label, MAX_LABEL),
        pending_release=Listing.of(
            PendingIssue(i.number, title_text(i.title), safe_url(i.html_url), i.state)
            for i in api.issues_with_label(label, state="all")
        ),
        blocking_labels=tuple(title_text(x, MAX_LABEL) for x in blocking),
        blocked=Listing.of(blocked_pulls(items, blocking)),
        sweep_enabled=sweep_cfg.enabled,
        sweep=Listing.of(sweep_items(plan, items, sweep_cfg.stale_label)),
        releases=tuple(_releases(api, previous)),
    )


def blocking_labels(config: StewardConfig) -> list[str]:
    """The labels that block a merge: the merge gate's, and the related-issue check's
    block and reason labels, once each (case-blind), in that order."""
    gate = merge_gate.POLICY.of(config)
    related = related_issue.POLICY.of(config)
    out: dict[str, str] = {}
    for name in (*gate.block_labels, related.block_label, related.reason_label):
        out.setdefault(name.casefold(), name)
    return list(out.values())


def blocked_pulls(items: Iterable[Issue], blocking: list[str]) -> Iterable[BlockedPull]:
    wanted = {b.casefold() for b in blocking}
    for item in items:
        if item.state != "open" or not item.pull_request:
            continue
        found = [x for x in item.labels if x.casefold() in wanted]
        if found:
            yield BlockedPull(
                item.number,
                title_text(item.title),
                safe_url(item.html_url),
                tuple(title_text(x, MAX_LABEL) for x in found),
            )


def sweep_items(plan: Plan, items: Iterable[Issue], stale_label: str) -> list[SweepItem]:
    """The plan's actions per item, in words (`surveys.SweepItem`): the stale and close
    comments are part of ``stale`` and ``close``; a revisit reminder is ``remind``."""
    actions: dict[int, list[str]] = {}
    for a in plan.actions:
        words = actions.setdefault(a.number, [])
        if isinstance(a, AddLabels):
            words += ["stale" if x == stale_label else f"label:{x}" for x in a.labels]
        elif isinstance(a, RemoveLabel):
            words.append(f"unlabel:{a.label}")
        elif isinstance(a, CloseIssue):
            words.append("close")
        elif isinstance(a, Comment):
            if a.key.startswith(f"{sweep_policy.REVISIT_KEY}:"):
                words.append("remind")
            elif not a.key.startswith(("sweep-stale:", "sweep-close:")):
                words.append("comment")
    known = {i.number: i for i in items}
    out = []
    for number, words in actions.items():
        item = known.get(number)
        if item is None or not words:
            continue
        out.append(
            SweepItem(
                number,
                title_text(item.title),
                safe_url(item.html_url),
                tuple(title_text(w, MAX_LABEL + 10) for w in dict.fromkeys(words)),
            )
        )
    return out


def _releases(api: RepoApi, previous: RepositorySurvey | None) -> Iterable[ReleaseRun]:
    known = {r.tag: r for r in previous.releases} if previous is not None else {}
    published = [r for r in api.releases_page() if not r.draft and r.tag_name]
    for rel in published[:RELEASES]:
        yield _release(api, rel, known.get(title_text(rel.tag_name)))


def _release(api: RepoApi, rel: GitHubRelease, before: ReleaseRun | None) -> ReleaseRun:
    tag = title_text(rel.tag_name)
    found = ReleaseRun(
        tag=tag,
        name=title_text(rel.name or rel.tag_name),
        published_at=title_text(rel.published_at, 40) or None,
        url=safe_url(rel.html_url),
        prerelease=rel.prerelease,
    )
    if rel.id is None:
        return found
    asset = next(
        (a for a in api.release_assets(rel.id) if a.name == RUN_RECORD and a.state == "uploaded"),
        None,
    )
    if asset is None:
        return found
    ref = RunAsset(asset.id, asset.size, asset.sha256)
    if before is not None and before.run_asset == ref:  # the same asset: read already
        return replace(found, run=before.run, run_error=before.run_error, run_asset=ref)
    try:
        return replace(found, run=read_run_record(api, asset), run_asset=ref)
    except (PayloadError, ReleaseError) as exc:
        return replace(found, run_error=_error(RUN_RECORD, exc), run_asset=ref)
