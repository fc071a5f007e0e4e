"""`github.sansio`: rate limits, pagination links, redirects and errors as pure functions of
(status, headers, body), each tested without a network. Headers and bodies are GitHub's
own where GitHub sends them: taken from the recorded traffic in `@octokit/fixtures`."""

from __future__ import annotations

import json

import pytest

from steward.errors import AuthError, GitHubError, NotFoundError, PayloadError, ValidationFailed
from steward.github import sansio
from tests.support.fixtures_replay import load_scenario

API = "https://api.github.com"


def _body(data: object) -> bytes:
    return json.dumps(data).encode()


# -- pagination ---------------------------------------------------------------------------


def test_links_read_every_rel_of_a_recorded_header():
    recorded = load_scenario("paginate-issues")[1]["headers"]["link"]
    rels = sansio.links(recorded)
    assert set(rels) == {"prev", "next", "last", "first"}
    assert rels["next"].startswith(f"{API}/repositories/")


def test_next_page_follows_the_recorded_links_to_the_end():
    scenario = load_scenario("paginate-issues")
    current = f"{API}{scenario[0]['path']}"
    hops = []
    for ex in scenario:
        nxt = sansio.next_page(ex["headers"].get("link"), current, API, "GET /x")
        hops.append(nxt)
        if nxt:
            current = nxt
    assert hops[-1] is None
    assert all(h is not None and h.startswith(API) for h in hops[:-1])


@pytest.mark.parametrize(
    "link",
    [
        '<http://api.github.com/x?page=2>; rel="next"',  # scheme downgrade
        '<https://api.github.com:8443/x?page=2>; rel="next"',  # other port
        '<https://evil.example/x?page=2>; rel="next"',  # other host
        '<https://api.github.com.evil.example/x>; rel="next"',
        '<//evil.example/x>; rel="next"',  # scheme-relative
    ],
)
def test_next_page_to_another_origin_is_refused(link: str):
    with pytest.raises(GitHubError, match="refusing to follow a pagination link"):
        sansio.next_page(link, f"{API}/repos/o/r/issues", API, "GET /repos/o/r/issues")


def test_next_page_on_the_same_origin_is_absolute_and_relative_links_resolve():
    assert sansio.next_page('<?page=2>; rel="next"', f"{API}/repos/o/r/issues", API, "x") == (
        f"{API}/repos/o/r/issues?page=2"
    )
    assert sansio.next_page(f'<{API}:443/x>; rel="next"', API, API, "x") == f"{API}:443/x"
    assert sansio.next_page('<a>; rel="prev"', API, API, "x") is None
    assert sansio.next_page(None, API, API, "x") is None


def test_page_items_take_the_list_or_the_search_items():
    assert sansio.page_items([1, 2], None, "GET /x") == [1, 2]
    assert sansio.page_items({"total_count": 1, "items": [3]}, "items", "GET /s") == [3]
    with pytest.raises(PayloadError, match="expected a JSON list from GitHub, got an object"):
        sansio.page_items({"message": "x"}, None, "GET /x")
    with pytest.raises(PayloadError, match="expected a JSON object"):
        sansio.page_items([1], "items", "GET /s")


# -- redirects ----------------------------------------------------------------------------


def test_a_same_origin_redirect_of_a_get_is_followed():
    target = sansio.redirect_target(
        "GET", 301, {"Location": "/repositories/1/issues/1"}, f"{API}/repos/o/r/issues/1", API
    )
    assert target == f"{API}/repositories/1/issues/1"


@pytest.mark.parametrize(
    ("method", "status", "location", "message"),
    [
        ("GET", 302, "https://evil.example/x", "refusing to follow a redirect"),
        ("POST", 307, f"{API}/repositories/1/issues", "may have been renamed"),
        ("GET", 301, "", "without a Location"),
    ],
)
def test_other_redirects_are_one_line_errors(method: str, status: int, location: str, message):  # type: ignore[no-untyped-def]
    with pytest.raises(GitHubError, match=message) as err:
        sansio.redirect_target(method, status, {"location": location}, f"{API}/x", API)
    assert "\n" not in str(err.value)


# -- bodies -------------------------------------------------------------------------------


def test_decode_json_of_html_names_the_content_type():
    with pytest.raises(GitHubError, match=r"GET /x: the API answered text/html, not JSON"):
        sansio.decode_json(200, {"Content-Type": "text/html"}, b"<html>hi</html>", "GET /x")
    assert sansio.decode_json(204, {}, b"", "DELETE /x") is None
    assert sansio.decode_json(200, {}, b'{"a": 1}', "GET /x") == {"a": 1}


def test_expect_object_refuses_a_list():
    with pytest.raises(
        PayloadError, match="GET /x: expected a JSON object from GitHub, got a list"
    ):
        sansio.expect_object([], "GET /x")


# -- rate limits --------------------------------------------------------------------------


def test_recorded_primary_rate_limit_headers_in_milliseconds():
    headers = load_scenario("labels")[0]["headers"]
    limited = {**headers, "x-ratelimit-remaining": "0"}
    reset = int(headers["x-ratelimit-reset"]) / 1000
    assert sansio.rate_limit_wait(403, limited, b"", now=reset - 30) == 31.0
    assert sansio.rate_limit_wait(200, limited, b"", now=0) is None
    assert sansio.rate_limit_wait(403, headers, _body({"message": "nope"}), now=0) is None


def test_secondary_rate_limits():
    msg = _body({"message": "You have exceeded a secondary rate limit."})
    assert sansio.rate_limit_wait(403, {"Retry-After": "7"}, b"", now=0) == 7.0
    assert sansio.rate_limit_wait(403, {"retry-after": "soon"}, b"", now=0) == 60.0
    assert sansio.rate_limit_wait(403, {}, msg, now=0) == 60.0
    assert sansio.rate_limit_wait(429, {}, b"", now=0) == 60.0
    assert sansio.rate_limit_wait(403, {"x-ratelimit-remaining": "0"}, b"", now=0) == 60.0


def test_retryable_is_5xx_on_idempotent_methods_only():
    assert sansio.retryable("GET", 502)
    assert sansio.retryable("DELETE", 500)
    assert not sansio.retryable("POST", 502)
    assert not sansio.retryable("GET", 404)


# -- errors -------------------------------------------------------------------------------


def test_recorded_errors_decode_to_our_hierarchy():
    ex = next(e for e in load_scenario("errors") if e["status"] == 422)
    err = sansio.error_for(
        "POST", f"{API}/repos/o/r/labels", 422, ex["headers"], _body(ex["response"])
    )
    assert isinstance(err, ValidationFailed)
    assert str(err) == (
        "POST /repos/o/r/labels: GitHub refused the request (422 Validation Failed); "
        "Label.color invalid"
    )
    missing = load_scenario("branch-protection")[0]
    err = sansio.error_for(
        "GET", missing["path"], 404, missing["headers"], _body(missing["response"])
    )
    assert isinstance(err, NotFoundError)


def test_401_and_403_are_auth_errors_with_hints():
    err = sansio.error_for("GET", f"{API}/x", 401, {}, _body({"message": "Bad credentials"}))
    assert isinstance(err, AuthError)
    assert "check GITHUB_TOKEN" in str(err)
    err = sansio.error_for(
        "POST",
        "/x",
        403,
        {"X-Accepted-GitHub-Permissions": "issues=write"},
        _body({"message": "no"}),
    )
    assert str(err) == "POST /x: forbidden (403 no); the token needs: issues=write"


def test_error_text_never_carries_the_host_the_query_or_the_token():
    err = sansio.error_for(
        "GET",
        "https://api.github.com/x?access_token=sekrit-value",
        500,
        {},
        _body({"message": "boom Authorization: token sekrit-value\nsecond line"}),
        reason="Server Error",
        secrets=("sekrit-value",),
    )
    assert str(err) == "GET /x: HTTP 500 boom Authorization: *** second line"


def test_redact():
    assert (
        sansio.redact("Bearer abcdef123456 and the-secret", ["the-secret"]) == "Bearer *** and ***"
    )
    assert sansio.redact("github_pat_" + "x" * 30) == "***"
    assert sansio.redact("the token needs: issues=write") == "the token needs: issues=write"
    assert sansio.redact("Basic dXNlcjpwYXNz") == "Basic ***"
