"""Chaos: signed deliveries, two intake processes, three worker processes on PostgreSQL,
workers SIGKILLed at random, GitHub failing 5 % of requests, 2 % of the deliveries sent
twice; the repository must end as a fault-free serial run leaves it.

The issue's 10,000 deliveries run in CI, first of all the tests (`tests/conftest.py`), beside
the rest of the suite on the other core: 475-485 s there on this 2-core machine, about 305 s
alone (2026-12-07; 163-250 s on 2026-11-30, before the server grew instance heartbeats,
start-up checks and surveys, and with fewer requests validated). ``STEWARD_CHAOS_DELIVERIES``
sets another size for a quick local run (``STEWARD_CHAOS_DELIVERIES=2500 pytest
tests/server/test_chaos.py -s``, about 115 s); ``python -m bench chaos`` runs it at 10,000
and prints its figures.

It fails when for 60 s no job finishes and no request reaches GitHub while some are queued
or running (stuck), not at a wall-clock bound: a fixed bound of 560 s failed in CI on
2026-12-07 with the queue still moving (3,169 queued, 4,662 done) on a machine slower than
this one. A backstop of 120 s plus 0.1 s a delivery still ends a run that crawls.

Two bugs it found are fixed, each with its own regression test: a release job failing after
taking `pending-release` off an issue already closed left it unannounced for good
(`Plan.merge` now removes labels after comments), and a long job lost one of its attempts to
every write fault though each run resumed further on (a run that got writes through now gives
its attempt back: `Inbox.fail`).

Design (the parts and why the serial run is a fair reference: `tests.server.chaos`):

- **Deliveries**: built from @octokit/webhooks-examples payloads (pull_request, issues,
  issue_comment, merge_group, push, release and events steward ignores) over 150 pull
  requests, 100 issues and 12 queued pull requests of one repository, signed with the
  webhook secret, in four phases (traffic, a release, traffic, a pre-release and a release),
  each drained before the next.
- **Processes**: two ``steward serve --workers 0`` (intake only) and three ``steward serve
  worker --concurrency 4``, real processes through the real entry point, bound to
  127.0.0.1, on one PostgreSQL database, against the spec-validating GitHub App test server
  with real App auth (JWT, installation tokens). A killer thread SIGKILLs a random worker
  every 2-4 s and starts another in its place (lease: 5 s).
- **Faults**: `Chaos` answers 5 % of GitHub requests with 500/502/503/504 or 429 with
  ``retry-after: 1`` before acting, and 1 % of repository writes are applied and then
  answered 502 (the answer lost), where a retry must not write twice.
- **Sending**: eight client threads, one lane per subject (each lane's deliveries in order,
  each acknowledged before the next); 2 % of the deliveries are sent again with the same
  ``X-GitHub-Delivery`` to the other server, half at the same moment as the original, half
  0.2-2 s after it was acknowledged.
- **Reference**: the deliveries the intake queues, once each, in order, through the workers'
  code path (`processing.process_delivery`, same dependencies) against a fresh server with
  no faults.

Checked (`chaos.problems`): the repository (every item's labels, state and comments in
order, every commit's statuses, the label set) equals the reference's; no marker on two
comments; every delivery stored once and taken in once; one job per queued delivery, each
done (dead only where the reference failed too), none queued or running; no sweep; no spec
violation; every process stopped cleanly. The figures are printed (``-s`` shows them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.server import chaos
from tests.server.postgres import Cluster

COUNT = int(os.environ.get("STEWARD_CHAOS_DELIVERIES", "10000"))


@pytest.mark.slow
def test_chaos_ends_as_a_fault_free_serial_run(postgres: Cluster, tmp_path: Path) -> None:
    out = chaos.run(chaos.Scenario(count=COUNT), postgres.create(), tmp_path / "processes.log")
    print("\nchaos:", out.report())
    assert out.kills.count > 0
    assert sum(out.injected.values()) > 0
    assert out.sent.sent_twice.total() > 0
    found = chaos.problems(out)
    assert not found, "\n".join(found)
