"""`github.budget`: which requests are conditional, what is stored, how long a write waits and
what the budget is, as pure functions; `WritePacer` with a fake clock. Headers are GitHub's
own where it sends them (`@octokit/fixtures` recordings)."""

from __future__ import annotations

import json
import threading

import pytest

from steward.github import budget
from steward.github.budget import PacingPolicy, PacingState, WritePacer
from tests.support.fixtures_replay import load_scenario

POLICY = PacingPolicy()


class FakeTime:
    """A clock that only the fake sleep moves."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- conditional reads --------------------------------------------------------------------


def test_only_get_is_conditional_and_keys_ignore_query_order_and_host():
    a = budget.cache_key("installation:42", "GET", "https://api.github.com/x?b=2&a=1")
    b = budget.cache_key("installation:42", "get", "http://127.0.0.1:9/x?a=1&b=2")
    assert a == b == "v2 installation:42 GET /x?a=1&b=2"
    assert budget.cache_key("installation:42", "POST", "https://api.github.com/x") is None
    assert budget.cache_key("installation:42", "HEAD", "https://api.github.com/x") is None


def test_keys_are_scoped_so_installations_never_share_answers():
    url = "https://api.github.com/repos/o/r/issues/1"
    assert budget.cache_key("installation:1", "GET", url) != budget.cache_key(
        "installation:2", "GET", url
    )


def test_recorded_etag_is_stored_only_for_a_200():
    recorded = load_scenario("get-content")[1]["headers"]
    assert budget.etag_to_store(200, recorded, b"# hello-world") == recorded["etag"]
    assert budget.etag_to_store(404, recorded, b"{}") is None
    assert budget.etag_to_store(200, {}, b"{}") is None
    assert budget.etag_to_store(200, {**recorded, "cache-control": "no-store"}, b"x") is None
    big = b"x" * (budget.MAX_CACHED_BODY + 1)
    assert budget.etag_to_store(200, recorded, big) is None


def test_pack_keeps_the_link_and_content_type_with_the_body():
    page = load_scenario("paginate-issues")[1]
    headers = page["headers"]
    stored = budget.pack(headers, b'[{"number": 1}]\n\n[]')
    kept, body = budget.unpack(stored)
    assert body == b'[{"number": 1}]\n\n[]'  # a blank line in the body survives
    assert kept == {"content-type": headers["content-type"], "link": headers["link"]}
    assert budget.unpack(b"no header block") == ({}, b"no header block")


def test_is_write_is_the_content_creating_methods():
    assert [m for m in ("GET", "HEAD", "POST", "PATCH", "PUT", "delete") if budget.is_write(m)] == [
        "POST",
        "PATCH",
        "PUT",
        "delete",
    ]


# -- the rate budget ----------------------------------------------------------------------


def test_rate_budget_reads_recorded_headers():
    headers = load_scenario("get-content")[0]["headers"]
    rate = budget.rate_budget(headers)
    assert rate is not None
    assert rate.limit == int(headers["x-ratelimit-limit"])
    assert rate.remaining == int(headers["x-ratelimit-remaining"])
    assert rate.reset_at == 1_507_651_200.0  # recorded in milliseconds
    assert budget.rate_budget({}) is None
    ms = budget.rate_budget(
        {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "1e12"}
    )
    assert ms is not None
    assert (ms.reset_at, ms.used, ms.resource) == (1e9, 4999, "core")


# -- pacing -------------------------------------------------------------------------------


def test_first_write_goes_at_once_the_next_a_second_later():
    state = budget.after_write(PacingState(), 100.0)
    assert budget.write_delay(PacingState(), 100.0, POLICY) == 0.0
    assert budget.write_delay(state, 100.25, POLICY) == pytest.approx(0.75)
    assert budget.write_delay(state, 101.5, POLICY) == 0.0


def test_eighty_writes_in_a_minute_hold_the_next_until_the_oldest_leaves():
    state = PacingState()
    for i in range(80):
        state = budget.after_write(state, 100.0 + i * 0.5)  # 80 writes in 40 s
    assert budget.write_delay(state, 140.0, POLICY) == pytest.approx(20.0)  # 100 + 60 - 140
    assert budget.write_delay(state, 160.5, POLICY) == 0.0


def test_five_hundred_writes_in_an_hour_hold_the_next():
    policy = PacingPolicy(min_interval=0, per_minute=10_000, per_hour=500)
    state = PacingState()
    for i in range(500):
        state = budget.after_write(state, float(i))
    assert budget.write_delay(state, 600.0, policy) == pytest.approx(3000.0)  # 0 + 3600 - 600


def test_old_writes_are_forgotten():
    state = budget.after_write(PacingState(writes=(0.0, 1.0)), 5000.0)
    assert state.writes == (5000.0,)


def test_a_secondary_limit_pauses_reads_and_writes_for_retry_after():
    body = b'{"message": "You have exceeded a secondary rate limit."}'
    state = budget.after_response(PacingState(), 403, {"retry-after": "30"}, body, 100.0)
    assert state.paused_until == 130.0
    assert budget.read_delay(state, 110.0) == 20.0
    assert budget.write_delay(state, 110.0, POLICY) == 20.0
    ok = budget.after_response(state, 200, {}, b"{}", 120.0)
    assert ok == state  # an ordinary answer changes nothing
    longer = budget.after_response(state, 429, {"retry-after": "60"}, b"{}", 120.0)
    assert longer.paused_until == 180.0


def test_spending_the_last_of_the_primary_limit_pauses_until_the_reset():
    spent = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "500"}
    state = budget.after_response(PacingState(), 200, spent, b"{}", 100.0)
    assert state.paused_until == 501.0
    left = {**spent, "x-ratelimit-remaining": "1"}
    assert budget.after_response(PacingState(), 200, left, b"{}", 100.0) == PacingState()
    past = {**spent, "x-ratelimit-reset": "50"}  # already reset: nothing to wait for
    assert budget.after_response(PacingState(), 200, past, b"{}", 100.0) == PacingState()


def test_budget_counts_what_is_left():
    state = PacingState(writes=(10.0, 50.0, 95.0))
    rate = budget.RateBudget("core", 5000, 4990, 10, 2000.0)
    got = budget.budget_of(state, rate, 3, 100.0, POLICY)
    assert (got.writes_last_minute, got.writes_left_minute) == (2, 78)
    assert (got.writes_last_hour, got.writes_left_hour) == (3, 497)
    assert (got.rate, got.not_modified, got.paused_for) == (rate, 3, 0.0)


# -- the pacer ----------------------------------------------------------------------------


def test_pacer_spaces_writes_and_lets_reads_through():
    t = FakeTime()
    seen: list[budget.Budget] = []
    pacer = WritePacer(clock=t.clock, sleep=t.sleep, on_budget=seen.append)
    for method in ("POST", "GET", "PATCH", "DELETE"):
        with pacer.slot(method):
            pass
        pacer.observe(200, {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4000"}, b"")
    assert t.sleeps == [1.0, 1.0]  # the read waited for nothing
    assert pacer.budget().writes_last_minute == 3
    assert seen[-1].rate is not None
    assert seen[-1].rate.remaining == 4000


def test_pacer_pause_from_one_request_holds_the_next():
    t = FakeTime()
    pacer = WritePacer(clock=t.clock, sleep=t.sleep)
    pacer.observe(429, {"retry-after": "7"}, b'{"message": "secondary rate limit"}')
    assert pacer.budget().paused_for == 7.0
    with pacer.slot("GET"):
        pass
    assert t.sleeps == [7.0]
    pacer.observe(304, {}, b"")
    assert pacer.budget().not_modified == 1


def test_pacer_never_sleeps_twice_for_one_deadline_when_the_clock_stands_still():
    sleeps: list[float] = []
    pacer = WritePacer(clock=lambda: 50.0, sleep=sleeps.append)
    pacer.observe(429, {"retry-after": "5"}, b"{}")
    with pacer.slot("POST"):
        pass
    assert sleeps == [5.0]


def test_pacer_serialises_writes_across_threads():
    pacer = WritePacer(PacingPolicy(min_interval=0))
    inside = 0
    most = 0
    lock = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        with pacer.slot("POST"):
            with lock:
                inside += 1
                most = max(most, inside)
            threading.Event().wait(0.01)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=write) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert most == 1
    assert pacer.budget().writes_last_minute == 6


def test_the_last_page_of_a_list_that_may_grow_is_never_stored():
    """Found in review: a timeline or comment list grows at its end, so a full page keeps
    its body (and ETag) while a new page comes behind it. Stored, a 304 would be answered
    with the old ``Link`` (or none), which does not point to the new page: the new items
    would never be read."""
    etag = {"etag": 'W/"abc"'}
    url = "https://api.github.com/repos/o/r/issues/1/comments?per_page=100"
    full = json.dumps([{"id": 1}] * 100).encode()
    short = json.dumps([{"id": 1}] * 99).encode()
    assert budget.etag_to_store(200, etag, full, url) is None  # full, no next page
    assert budget.etag_to_store(200, etag, short, url) == 'W/"abc"'  # the whole list
    nxt = {**etag, "link": '<https://api.github.com/x?page=2>; rel="next"'}
    assert budget.etag_to_store(200, nxt, full, url) == 'W/"abc"'  # its next URL holds
    last = {**etag, "link": '<https://api.github.com/x?page=1>; rel="prev"'}
    assert budget.etag_to_store(200, last, full, url) is None  # a full last page
    # no per_page: GitHub's 30; more than 100 asked: GitHub's 100
    assert budget.etag_to_store(200, etag, json.dumps([1] * 30).encode(), url[:-13]) is None
    assert budget.etag_to_store(200, etag, full, url.replace("100", "1000")) is None
    # a wrapped list carries its total_count: its ETag follows the list
    wrapped = json.dumps({"total_count": 200, "repositories": [{}] * 100}).encode()
    assert budget.etag_to_store(200, etag, wrapped, url) == 'W/"abc"'


@pytest.mark.parametrize(
    ("per_page", "items"),
    [
        ("\u00b2", 30),  # superscript two: `isdigit()` is true, `int()` raises
        ("\u0665", 30),  # Arabic-Indic five: `int()` reads 5
        ("\uff15", 30),  # fullwidth five
        ("9" * 5000, 30),  # more digits than `int()` converts
        ("5x", 30),
        ("5", 5),
    ],
)
def test_a_per_page_that_is_no_ascii_number_is_githubs_default(per_page: str, items: int):
    """#16: the page size in a URL is read from ASCII digits only; any other value is the
    default 30, as when none is asked, never a size read from other digits."""
    etag = {"etag": 'W/"abc"'}
    url = f"https://api.github.com/repos/o/r/issues/1/comments?per_page={per_page}"
    assert budget.etag_to_store(200, etag, json.dumps([1] * items).encode(), url) is None
    assert budget.etag_to_store(200, etag, json.dumps([1] * 5).encode(), url) == (
        'W/"abc"' if items == 30 else None
    )
