"""`steward serve reconcile`: ask GitHub again for the webhook deliveries the server missed.

GitHub keeps a record of every delivery of the App's webhook (``GET /app/hook/deliveries``,
newest first, paged by cursor) and redelivers one on request (``POST
/app/hook/deliveries/{id}/attempts``), with the same delivery GUID. A delivery the server
never took in (it was down, or answered an error) shows there as failed; `reconcile` asks
for the redelivery of each event (GUID) delivered within ``since`` that no attempt
delivered successfully and that the server's inbox does not hold (``known(guid)``: an
event can fail at GitHub's end, e.g. a timeout, and still have reached the inbox), and
reports what it did.

A delivery counts as successful when GitHub recorded a 2xx or 3xx answer, the same split
as the endpoint's own ``status`` filter. The click command is `steward.cli.reconcile_cmd`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from steward.errors import GitHubError, UsageError
from steward.github.app_api import AppApi, HookDelivery
from steward.github.client import GitHubClient

log = logging.getLogger(__name__)

DEFAULT_SINCE = "72h"  # GitHub keeps deliveries for three days
MAX_REDELIVERIES = 1000
_SINCE = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(slots=True)
class Report:
    """What a reconcile run saw and did."""

    since: datetime
    dry_run: bool = False
    scanned: int = 0  # deliveries listed within the window
    events: int = 0  # distinct GUIDs among them
    failed: int = 0  # GUIDs no attempt delivered
    in_inbox: list[str] = field(default_factory=list)  # failed at GitHub, but in the inbox
    redelivered: list[HookDelivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # redeliveries GitHub refused
    left: int = 0  # failed GUIDs beyond the run's limit, for the next run
    skipped: int = 0  # listed items without the documented shape

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat().replace("+00:00", "Z"),
            "dry_run": self.dry_run,
            "scanned": self.scanned,
            "events": self.events,
            "failed": self.failed,
            "in_inbox": list(self.in_inbox),
            "redelivered": [
                {"id": d.id, "guid": d.guid, "event": d.what, "status_code": d.status_code}
                for d in self.redelivered
            ],
            "errors": list(self.errors),
            "left": self.left,
            "skipped": self.skipped,
        }

    def lines(self) -> list[str]:
        verb = "would redeliver" if self.dry_run else "redelivered"
        out = [
            f"deliveries since {self.since:%Y-%m-%d %H:%M}Z: {self.scanned} "
            f"({self.events} events), {self.failed} never delivered",
        ]
        out += [
            f"{verb}: {d.guid} {d.what} (delivery {d.id}, HTTP {d.status_code})"
            for d in self.redelivered
        ]
        out += [f"already in the inbox: {guid}" for guid in self.in_inbox]
        out += [f"failed: {e}" for e in self.errors]
        if self.left:
            out.append(f"left for the next run: {self.left}")
        if not self.redelivered and not self.errors:
            out.append("nothing to redeliver")
        return out


# -- pure parts ---------------------------------------------------------------------------


def parse_since(text: str) -> timedelta:
    """``72h``, ``30m``, ``3d``, ``90s`` -> a positive duration; else a `UsageError`."""
    m = _SINCE.match(text)
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"--since must be a duration such as 72h, 30m or 3d, got {text!r}")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def undelivered(deliveries: Iterable[HookDelivery]) -> list[HookDelivery]:
    """Per GUID whose attempts all failed, its newest attempt (the one to redeliver),
    oldest event first."""
    newest: dict[str, HookDelivery] = {}
    delivered: set[str] = set()
    for d in deliveries:
        if d.ok:
            delivered.add(d.guid)
        seen = newest.get(d.guid)
        if seen is None or (d.delivered_at, d.id) > (seen.delivered_at, seen.id):
            newest[d.guid] = d
    failed = [d for guid, d in newest.items() if guid not in delivered]
    return sorted(failed, key=lambda d: (d.delivered_at, d.id))


# -- the run ------------------------------------------------------------------------------


def reconcile(
    client_factory: Callable[[], GitHubClient],
    since: timedelta,
    known: Callable[[str], bool],
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    limit: int = MAX_REDELIVERIES,
) -> Report:
    """List the App's deliveries of the last ``since``, redeliver the events none of whose
    attempts succeeded and that ``known`` (the inbox) does not hold; report it all.

    ``client_factory()`` gives a client authenticated as the App (`GitHubApp.app_client`).
    A redelivery GitHub refuses is reported and the run goes on; a failure to list is a
    `GitHubError`.
    """
    start = (now or datetime.now(UTC)) - since
    report = Report(since=start, dry_run=dry_run)
    with client_factory() as client:
        api = AppApi(client)

        def skipped() -> None:
            report.skipped += 1

        seen: list[HookDelivery] = []
        for d in api.hook_deliveries(skipped):
            if d.delivered_at < start:
                break  # newest first: the rest are older still
            seen.append(d)
        report.scanned = len(seen)
        report.events = len({d.guid for d in seen})
        failed = undelivered(seen)
        report.failed = len(failed)
        todo = []
        for d in failed:
            if known(d.guid):
                report.in_inbox.append(d.guid)
            else:
                todo.append(d)
        report.left = max(0, len(todo) - limit)
        for d in todo[:limit]:
            if dry_run:
                report.redelivered.append(d)
                continue
            try:
                api.redeliver(d.id)
            except GitHubError as exc:
                report.errors.append(f"{d.guid} (delivery {d.id}): {exc}")
                log.warning("redelivery of %s (delivery %d) refused: %s", d.guid, d.id, exc)
                continue
            report.redelivered.append(d)
            log.info("redelivery of %s %s requested (delivery %d)", d.guid, d.what, d.id)
    return report


def known_from(guids: Iterable[str]) -> Callable[[str], bool]:
    """``known`` over a fixed set of GUIDs (tests, or a snapshot of the inbox)."""
    held = frozenset(guids)
    return held.__contains__
