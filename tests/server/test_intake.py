"""The intake's pure rules: headers, signature, payload, and what a delivery becomes."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote

import pytest

from steward.server import intake
from tests.support.github_material import issue_event, pull_request_event, release_event

SECRET = b"It's a Secret to Everybody"
# GitHub's documented test vector for X-Hub-Signature-256 ("Validating webhook deliveries").
DOC_BODY = b"Hello, World!"
DOC_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def head(event: str = "pull_request", delivery: str = "d-1", hook: str = "42") -> intake.Headers:
    return intake.Headers(event, delivery, "sha256=x", hook)


def test_signature_matches_githubs_documented_example() -> None:
    assert intake.sign(SECRET, DOC_BODY) == DOC_SIGNATURE
    assert intake.verify(SECRET, DOC_BODY, DOC_SIGNATURE)


@pytest.mark.parametrize(
    "signature",
    [
        DOC_SIGNATURE[:-1] + "0",  # one hex digit off
        DOC_SIGNATURE.upper(),
        DOC_SIGNATURE.replace("sha256=", ""),  # no algorithm
        "sha1=" + hmac.new(SECRET, DOC_BODY, hashlib.sha1).hexdigest(),  # SHA-1 is refused
        "sha512=" + hmac.new(SECRET, DOC_BODY, hashlib.sha512).hexdigest(),
        "sha256=é",
        "",
    ],
)
def test_any_other_signature_is_refused(signature: str) -> None:
    assert not intake.verify(SECRET, DOC_BODY, signature)


def test_a_signature_under_another_secret_or_body_is_refused() -> None:
    assert not intake.verify(b"other", DOC_BODY, DOC_SIGNATURE)
    assert not intake.verify(SECRET, DOC_BODY + b" ", DOC_SIGNATURE)
    assert not intake.verify(b"", DOC_BODY, intake.sign(b"", DOC_BODY))  # no secret, no pass


def test_verify_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(intake.hmac, "compare_digest", spy)
    assert intake.verify(SECRET, DOC_BODY, DOC_SIGNATURE)
    assert seen == [(DOC_SIGNATURE.encode(), DOC_SIGNATURE.encode())]


def test_missing_headers_are_named() -> None:
    with pytest.raises(intake.Rejected) as info:
        intake.headers({"x-github-event": "push"})
    assert info.value.status == 400
    assert info.value.detail == "missing X-GitHub-Delivery, X-Hub-Signature-256"


def test_only_the_sha256_signature_header_counts() -> None:
    with pytest.raises(intake.Rejected) as info:
        intake.headers(
            {"x-github-event": "push", "x-github-delivery": "d", "x-hub-signature": "sha1=00"}
        )
    assert info.value.detail == "missing X-Hub-Signature-256"


@pytest.mark.parametrize(
    "raw",
    [
        {"x-github-event": "pull request", "x-github-delivery": "d", "x-hub-signature-256": "s"},
        {"x-github-event": "push", "x-github-delivery": "d" * 101, "x-hub-signature-256": "s"},
        {
            "x-github-event": "push",
            "x-github-delivery": "d",
            "x-hub-signature-256": "s",
            "x-github-hook-id": "12ab",
        },
    ],
)
def test_malformed_headers_are_a_400(raw: dict[str, str]) -> None:
    with pytest.raises(intake.Rejected) as info:
        intake.headers(raw)
    assert info.value.status == 400


def test_headers_without_a_hook_id_are_keyed_by_the_delivery_alone() -> None:
    got = intake.headers(
        {"x-github-event": "push", "x-github-delivery": "72d3162e", "x-hub-signature-256": "s"}
    )
    assert got == intake.Headers("push", "72d3162e", "s", "")


def test_payload_json_and_form_encoded() -> None:
    body = json.dumps({"action": "opened"}).encode()
    assert intake.payload(body, "application/json") == ({"action": "opened"}, body)
    form = b"payload=" + quote(body.decode()).encode()
    assert intake.payload(form, "application/x-www-form-urlencoded") == ({"action": "opened"}, body)


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"[" * 100_000, "application/json"),
        (b"other=1", "application/x-www-form-urlencoded"),
        (b"payload=1&payload=2", "application/x-www-form-urlencoded"),
    ],
)
def test_a_payload_that_is_not_a_json_object_is_a_400(body: bytes, ctype: str) -> None:
    with pytest.raises(intake.Rejected) as info:
        intake.payload(body, ctype)
    assert info.value.status == 400


def test_events_of_one_pull_request_or_issue_share_a_subject() -> None:
    pr = pull_request_event("opened", number=2)
    labeled = pull_request_event("labeled", number=2, label="bug")
    issue = issue_event("opened", number=2)
    rel = release_event()
    name = pr["repository"]["full_name"]
    assert intake.subject(head(), pr, name, 7) == f"{name}#2"
    assert intake.subject(head(), labeled, name, 7) == f"{name}#2"
    assert intake.subject(head("issues"), issue, name, 7) == f"{name}#2"
    assert intake.subject(head("release"), rel, name, 7) == f"{name}!release"
    assert intake.subject(head("installation"), {}, None, 7) == "installation:7"
    assert intake.subject(head("ping", "d-9", "1"), {}, None, None) == "delivery:1:d-9"


def test_incoming_keeps_the_body_and_queues_only_what_the_workers_act_on() -> None:
    pr = pull_request_event("opened")
    pr["installation"] = {"id": 7}
    raw = json.dumps(pr).encode()
    got = intake.incoming(head(), pr, raw)
    assert got.body == raw
    assert got.installation_id == 7
    assert got.repository == pr["repository"]["full_name"]
    assert got.sender == pr["sender"]["login"]
    assert got.enqueue
    assert not intake.incoming(head("star"), pr, raw).enqueue  # no policy handles it
    del pr["installation"]
    assert not intake.incoming(head(), pr, raw).enqueue  # no installation to act as


def test_a_push_is_queued_only_when_it_may_change_the_config() -> None:
    push = {
        "ref": "refs/heads/main",
        "repository": {"full_name": "octo/app", "default_branch": "main"},
        "installation": {"id": 7},
        "commits": [{"added": [], "modified": ["README.md"], "removed": []}],
    }
    assert not intake.incoming(head("push"), push, b"{}").enqueue
    push["commits"] = [{"added": [], "modified": [".github/steward.yml"], "removed": []}]
    got = intake.incoming(head("push"), push, b"{}")
    assert got.enqueue
    assert got.subject == "octo/app!config"


def test_handled_events_come_from_the_policies() -> None:
    from steward.policies.registry import policies

    names = intake.handled_events()
    for policy in policies():
        assert set(policy.events) <= names
    assert {"pull_request_target", "installation", "push"} <= names


def test_the_apps_own_bot_is_recognised_case_blind() -> None:
    data = {"sender": {"login": "Steward-App[bot]", "type": "Bot"}}
    assert intake.is_from(data, "steward-app[bot]")
    assert not intake.is_from(data, "other[bot]")
    assert not intake.is_from(data, None)
    assert not intake.is_from({}, "steward-app[bot]")
