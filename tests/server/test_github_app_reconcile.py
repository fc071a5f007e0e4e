"""`steward serve reconcile` against the test server's webhook deliveries: listed through
GitHub's API (cursor pages, newest first), failed events not in the inbox redelivered once,
and a report of what was done."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner

from steward.cli.reconcile_cmd import DEPS_KEY, ReconcileDeps, reconcile_cmd
from steward.errors import StewardError, UsageError
from steward.github.app_api import HookDelivery, delivery_from_api
from steward.github.budget import PacingPolicy
from steward.server.github_app import GitHubApp
from steward.server.reconcile import known_from, parse_since, reconcile, undelivered
from tests.support import openapi
from tests.support.github_app_server import APP_ID, Chaos, GitHubAppServer

HOUR = 3600.0


@pytest.fixture
def gh() -> Iterator[GitHubAppServer]:
    with GitHubAppServer() as server:
        yield server
        server.assert_clean()


@pytest.fixture
def app(gh: GitHubAppServer) -> GitHubApp:
    # no second between redeliveries here: pacing has its own tests
    return GitHubApp(
        APP_ID, gh.private_key_pem, base_url=gh.url, pacing=PacingPolicy(min_interval=0)
    )


def seed(gh: GitHubAppServer) -> dict[str, int]:
    """A day of deliveries: mostly delivered, some not; returns ids by name."""
    now = time.time()
    ids = {}
    for i in range(120):  # delivered fine: two pages of deliveries in all
        gh.add_delivery(f"ok-{i}", delivered_at=now - 2 * HOUR - i)
    ids["lost"] = gh.add_delivery("lost", status_code=502, delivered_at=now - 5 * HOUR)["id"]
    ids["timeout"] = gh.add_delivery("late", status_code=0, delivered_at=now - 6 * HOUR)["id"]
    gh.add_delivery("late", status_code=200, delivered_at=now - 5 * HOUR, redelivery=True)
    ids["inbox"] = gh.add_delivery("in-inbox", status_code=504, delivered_at=now - HOUR)["id"]
    gh.add_delivery("twice", status_code=500, delivered_at=now - 10 * HOUR)
    ids["twice"] = gh.add_delivery(
        "twice", status_code=503, delivered_at=now - 9 * HOUR, redelivery=True
    )["id"]
    ids["old"] = gh.add_delivery("old", status_code=502, delivered_at=now - 80 * HOUR)["id"]
    return ids


def test_failed_deliveries_not_in_the_inbox_are_redelivered_once(
    gh: GitHubAppServer, app: GitHubApp
):
    ids = seed(gh)
    report = reconcile(app.app_client, timedelta(hours=72), known_from({"in-inbox"}))
    assert gh.redeliveries == [ids["twice"], ids["lost"]]  # oldest event first
    assert [d.guid for d in report.redelivered] == ["twice", "lost"]
    assert report.in_inbox == ["in-inbox"]
    assert (report.failed, report.errors, report.left) == (3, [], 0)
    assert report.scanned == 126  # "old" is outside the window
    assert report.events == 124
    cursors = [c.query.get("cursor") for c in gh.calls if c.path == "/app/hook/deliveries"]
    assert cursors[0] is None
    assert cursors[1].startswith("v1_")  # the second page, by cursor

    again = reconcile(app.app_client, timedelta(hours=72), known_from({"in-inbox"}))
    assert again.redelivered == []  # the redeliveries succeeded: nothing left
    assert gh.redeliveries == [ids["twice"], ids["lost"]]


def test_dry_run_redelivers_nothing(gh: GitHubAppServer, app: GitHubApp):
    seed(gh)
    report = reconcile(app.app_client, timedelta(hours=72), known_from(()), dry_run=True)
    assert [d.guid for d in report.redelivered] == ["twice", "lost", "in-inbox"]
    assert gh.redeliveries == []
    assert [c for c in gh.calls if c.method == "POST"] == []


def test_a_shorter_window_stops_listing_early(gh: GitHubAppServer, app: GitHubApp):
    seed(gh)
    report = reconcile(app.app_client, timedelta(minutes=90), known_from(()))
    assert [d.guid for d in report.redelivered] == ["in-inbox"]
    assert len([c for c in gh.calls if c.path == "/app/hook/deliveries"]) == 1


def test_a_refused_redelivery_is_reported_and_the_rest_go_on(gh: GitHubAppServer, app: GitHubApp):
    ids = seed(gh)
    gh.chaos = Chaos(rate=1.0, statuses=(502,), path_contains=f"/{ids['twice']}/", times=1)
    report = reconcile(app.app_client, timedelta(hours=72), known_from({"in-inbox"}))
    assert [d.guid for d in report.redelivered] == ["lost"]
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"twice (delivery {ids['twice']}): POST ")


def test_the_limit_leaves_the_rest_for_the_next_run(gh: GitHubAppServer, app: GitHubApp):
    seed(gh)
    report = reconcile(app.app_client, timedelta(hours=72), known_from(()), limit=1)
    assert ([d.guid for d in report.redelivered], report.left) == (["twice"], 2)


# -- the command ----------------------------------------------------------------------------


def serve_group(deps: object) -> click.Group:
    """Stands in for the server's `serve` group: it puts the deps in ``ctx.meta``."""

    @click.group()
    @click.pass_context
    def serve(ctx: click.Context) -> None:
        ctx.meta[DEPS_KEY] = deps

    serve.add_command(reconcile_cmd)
    return serve


def test_reconcile_cmd_reports_in_json(gh: GitHubAppServer, app: GitHubApp):
    seed(gh)
    deps = ReconcileDeps(app.app_client, known_from({"in-inbox"}))
    result = CliRunner().invoke(serve_group(lambda: deps), ["reconcile", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # a log line may go to stderr
    assert [d["guid"] for d in data["redelivered"]] == ["twice", "lost"]
    assert data["in_inbox"] == ["in-inbox"]
    assert data["dry_run"] is False


def test_reconcile_cmd_text_and_dry_run(gh: GitHubAppServer, app: GitHubApp):
    seed(gh)
    deps = ReconcileDeps(app.app_client, known_from({"in-inbox"}))
    result = CliRunner().invoke(serve_group(deps), ["reconcile", "--since", "3d", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("126 (124 events), 3 never delivered")
    assert any(line.startswith("would redeliver: lost issues.opened") for line in lines)
    assert "already in the inbox: in-inbox" in lines
    assert gh.redeliveries == []


def test_reconcile_cmd_fails_when_a_redelivery_is_refused(gh: GitHubAppServer, app: GitHubApp):
    seed(gh)
    gh.chaos = Chaos(rate=1.0, statuses=(502,), path_contains="/attempts")
    deps = ReconcileDeps(app.app_client, known_from(()))
    result = CliRunner().invoke(serve_group(deps), ["reconcile"])
    assert isinstance(result.exception, StewardError)
    assert result.exception.exit_code == 1
    assert "3 redeliveries were refused" in str(result.exception)


def test_reconcile_cmd_bad_since_is_a_usage_error():
    result = CliRunner().invoke(serve_group(None), ["reconcile", "--since", "soon"])
    assert isinstance(result.exception, UsageError)
    assert result.exception.exit_code == 2


def test_reconcile_cmd_without_the_servers_deps_says_so():
    result = CliRunner().invoke(serve_group(None), ["reconcile"])
    assert isinstance(result.exception, StewardError)
    assert "settings were not loaded" in str(result.exception)


# -- pure parts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("72h", 259_200), ("30m", 1800), ("3d", 259_200), ("90s", 90)]
)
def test_parse_since(text: str, seconds: int):
    assert parse_since(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0h", "72", "h", "-1h", "1w", "1.5h"])
def test_parse_since_refuses(text: str):
    with pytest.raises(UsageError, match="--since"):
        parse_since(text)


def test_delivery_from_api_reads_githubs_examples_and_skips_shapeless_items():
    items = openapi.example("hook-delivery-items")
    got = [delivery_from_api(i) for i in items]
    assert [d.redelivery for d in got if d] == [False, True]
    first = got[0]
    assert first is not None
    assert first.delivered_at == datetime(2019, 6, 3, 0, 57, 16, tzinfo=UTC)
    assert (first.ok, first.what) == (True, "issues.opened")
    for bad in ([], {"id": 1}, {**items[0], "id": True}, {**items[0], "delivered_at": "x"}):
        assert delivery_from_api(bad) is None


def test_undelivered_picks_the_newest_attempt_of_each_event_never_delivered():
    t = datetime(2026, 1, 1, tzinfo=UTC)

    def d(i: int, guid: str, code: int, hours: int) -> HookDelivery:
        return HookDelivery(i, guid, t + timedelta(hours=hours), code, "push", None, i > 10)

    got = undelivered(
        [d(1, "a", 502, 0), d(11, "a", 502, 2), d(2, "b", 500, 1), d(12, "b", 302, 3)]
    )
    assert [(x.guid, x.id) for x in got] == [("a", 11)]
