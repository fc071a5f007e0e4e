"""The server's API cost per event, cold and with a warm ETag cache, beside no cache at all.

Each event goes through the server's processing (`process_delivery`, the App's installation
client) against the local GitHub App test server, which counts every request, the 304s it
answers to conditional GETs and the rate limit each request spends (a 304 spends none). The
ETag store is the server's own table (`SqlEtagStore` on SQLite). Per event, three runs on the
same seed: "cold" (the store empty), "again" (the same event processed once more, as a
retried or redelivered job is; what the first run wrote changed what it reads, so those
reads are answered in full) and "warm" (a third time: nothing changed since, every read is
a 304). The peer is the same runs without a store, which is what a stateless Action (or
probot without a cache) spends. The test server answers a 304 only where GitHub's OpenAPI
description documents one for the route (an issue, not its list; not a PR's files), so the
savings shown are a floor.

Run: `python -m bench server_api` (needs `make setup`: the npm material for the server).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.fake_clock import FakeClock
from tests.support.github_app_server import APP_ID, INSTALLATION_ID, SLUG, GitHubAppServer
from tests.support.github_material import issue_event, pull_request_event, release_event

from steward.config.model import config_model
from steward.server import db
from steward.server.github_app import GitHubApp
from steward.server.processing import Delivery, WorkerDeps, process_delivery
from steward.server.stores import SqlEtagStore

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
WHO = f"installation:{INSTALLATION_ID}"


def seed_pr(gh: GitHubAppServer) -> None:
    gh.add_pr(2, "feat: add a sampling rate", files=[("src/app.py", 40, 8)])


def seed_issue(gh: GitHubAppServer) -> None:
    gh.add_issue(1, "Spelling error in the README file", author="Codertocat")


def seed_release(gh: GitHubAppServer) -> None:
    for n in range(10, 30):
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    event: str
    payload: Callable[[], dict[str, Any]]
    seed: Callable[[GitHubAppServer], None]


CASES = (
    Case(
        "pull_request opened",
        "pull_request",
        lambda: pull_request_event("opened", title="feat: add a sampling rate", head_sha=SHA),
        seed_pr,
    ),
    Case(
        "pull_request synchronize",
        "pull_request",
        lambda: pull_request_event("synchronize", title="feat: add a sampling rate", head_sha=SHA),
        seed_pr,
    ),
    Case("issues opened", "issues", lambda: issue_event("opened"), seed_issue),
    Case("release published (20)", "release", lambda: release_event("published"), seed_release),
)


@dataclass(frozen=True, slots=True)
class Cost:
    requests: int
    not_modified: int
    rate: int  # rate limit spent
    writes: int


def _with_installation(payload: dict[str, Any]) -> dict[str, Any]:
    payload["installation"] = {
        "id": INSTALLATION_ID,
        "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNw==",
    }
    return payload


def _runs(case: Case, cached: bool, work: Path) -> list[Cost]:
    """The event processed three times on one seed: the cost of each run."""
    clock = FakeClock()  # write pacing costs the benchmark no real time
    store = None
    engine = None
    if cached:
        engine = db.make_engine(f"sqlite:///{work / f'{case.event}-{id(case)}.db'}")
        db.migrate(engine)
        store = SqlEtagStore(engine)
    try:
        with GitHubAppServer(clock=clock) as gh:
            case.seed(gh)
            app = GitHubApp(
                APP_ID,
                gh.private_key_pem,
                base_url=gh.url,
                etags=store,
                clock=clock,
                sleep=clock.sleep,
            )
            config = config_model()()
            deps = WorkerDeps(
                github_for=app.github_for,
                config_for=lambda _i, _n: config,
                bot_login=f"{SLUG}[bot]",
            )
            app.github_for(INSTALLATION_ID)  # the installation token: not the event's cost
            gh.reset_calls()
            costs = []
            for attempt in (1, 2, 3):
                before = (len(gh.all_calls), gh.not_modified, gh.rate_used[WHO])
                writes_before = len([c for c in gh.all_calls if c.is_write])
                delivery = Delivery(
                    delivery_id=f"d{attempt}",
                    hook_id="1",
                    event=case.event,
                    payload=_with_installation(case.payload()),
                    installation_id=INSTALLATION_ID,
                    received_at=datetime.now(UTC),
                    attempt=attempt,
                )
                process_delivery(delivery, deps)
                costs.append(
                    Cost(
                        requests=len(gh.all_calls) - before[0],
                        not_modified=gh.not_modified - before[1],
                        rate=gh.rate_used[WHO] - before[2],
                        writes=len([c for c in gh.all_calls if c.is_write]) - writes_before,
                    )
                )
            gh.assert_clean()
            return costs
    finally:
        if engine is not None:
            engine.dispose()


def main() -> None:
    print(__doc__.split("\n\n")[0])
    header = (
        f"{'event':<26} {'run':<6} {'requests':>8} {'writes':>6} {'304':>4} "
        f"{'rate spent':>10} {'no cache':>8} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    total_cached = total_plain = 0
    with tempfile.TemporaryDirectory(prefix="steward-bench-api-") as tmp:
        for case in CASES:
            cached = _runs(case, True, Path(tmp))
            plain = _runs(case, False, Path(tmp))
            for label, cost, peer in zip(("cold", "again", "warm"), cached, plain, strict=True):
                ratio = f"{cost.rate / peer.rate:.2f}" if peer.rate else "-"
                print(
                    f"{case.name:<26} {label:<6} {cost.requests:>8} {cost.writes:>6} "
                    f"{cost.not_modified:>4} {cost.rate:>10} {peer.rate:>8} {ratio:>6}"
                )
            total_cached += cached[2].rate
            total_plain += plain[2].rate
    print(
        f"warm runs, all events: {total_cached} rate-limited requests with the cache, "
        f"{total_plain} without ({total_cached / max(1, total_plain):.2f}x)"
    )
