"""The test GitHub's validation memo: an input that validated is not validated again, and the
memo can never hide a violation (a failure is not remembered; any part openapi-core reads is
in the key)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import openapi

ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"
LABELS = "/repos/{owner}/{repo}/issues/{issue_number}/labels"
PATHS = frozenset({ISSUE, LABELS})


class Counting:
    """openapi-core's validator, counting the calls that reach it."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.requests = 0
        self.responses = 0

    def validate_request(self, request: Any) -> Any:
        self.requests += 1
        return self.real.validate_request(request)

    def validate_response(self, request: Any, response: Any) -> Any:
        self.responses += 1
        return self.real.validate_response(request, response)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    counter = Counting(openapi.openapi(PATHS))
    monkeypatch.setattr(openapi, "openapi", lambda paths=None: counter)
    monkeypatch.setattr(openapi, "_PASSED", openapi._Passed())
    return counter


def test_a_request_that_validated_is_not_validated_again(counting: Counting) -> None:
    body = json.dumps({"labels": ["bug"]}).encode()
    for _ in range(3):
        openapi.validate_request("POST", "/repos/o/r/issues/1/labels", body, paths=PATHS)
    assert counting.requests == 1
    openapi.validate_request(
        "POST", "/repos/o/r/issues/1/labels", json.dumps({"labels": ["x"]}).encode(), paths=PATHS
    )
    assert counting.requests == 2  # another body is another input


def test_a_violation_is_reported_every_time(counting: Counting) -> None:
    bad = json.dumps({"labels": "bug"}).encode()  # a string where GitHub takes an array
    for _ in range(2):
        with pytest.raises(openapi.SpecViolation):
            openapi.validate_request("POST", "/repos/o/r/issues/1/labels", bad, paths=PATHS)
    assert counting.requests == 2


def test_a_response_is_keyed_on_its_body_and_the_headers_it_declares(counting: Counting) -> None:
    issue = json.dumps(openapi.example("issue")).encode()

    def check(body: bytes, **headers: str) -> None:
        hdrs = {"content-type": "application/json", **headers}
        openapi.validate_response(
            "GET", "/repos/o/r/issues/1", 200, body, hdrs, paths=PATHS, template=ISSUE
        )

    check(issue, **{"x-ratelimit-remaining": "4999"})
    check(issue, **{"x-ratelimit-remaining": "4998"})  # not a header this response declares
    assert counting.responses == 1
    broken = openapi.example("issue")
    del broken["title"]
    for _ in range(2):
        with pytest.raises(openapi.SpecViolation):
            check(json.dumps(broken).encode())
    assert counting.responses == 3
    # Without the operation's template nothing is remembered.
    for _ in range(2):
        openapi.validate_response(
            "GET",
            "/repos/o/r/issues/1",
            200,
            issue,
            {"content-type": "application/json"},
            paths=PATHS,
        )
    assert counting.responses == 5


def test_the_declared_headers_are_the_descriptions_own() -> None:
    assert "link" in openapi._response_headers("GET", "/repos/{owner}/{repo}/issues", 200)
    assert "x-ratelimit-remaining" not in openapi._response_headers("GET", ISSUE, 200)
    assert "x-github-delivery" in openapi._request_headers()


def test_the_memo_is_bounded() -> None:
    passed = openapi._Passed(size=3)
    for i in range(5):
        passed.add(i)
    assert [i in passed for i in range(5)] == [False, False, True, True, True]
