"""`steward.limits` and the parsing sites that use it: JSON and YAML nesting (issue #16).

Reproductions, each first seen failing:

* a recursive YAML anchor (``a: &x [*x]``) in `.github/steward.yml` ended in a
  RecursionError traceback, not a config error;
* a JSON payload file, a webhook delivery or an API answer nested 65 levels deep was
  accepted (GitHub's deepest is 11); an API answer nested thousands deep ended in a
  RecursionError traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steward import limits
from steward.config.loader import parse_config
from steward.domain.events import load_payload, read_json
from steward.errors import ConfigError, GitHubError, InputError
from steward.github import sansio
from steward.server import intake
from tests.support.github_material import event_names, examples, pull_request_event


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


# -- json_too_deep ----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 2, 7, 63, 64, 65, 200])
def test_json_too_deep_counts_levels_exactly(depth: int) -> None:
    raw = json.dumps(nested(depth)).encode()
    assert limits.json_too_deep(raw) is (depth > limits.MAX_JSON_DEPTH)
    assert limits.json_too_deep(raw, depth) is False
    assert limits.json_too_deep(raw, max(depth - 1, 0)) is (depth > 0)


@pytest.mark.parametrize(
    "value",
    [
        {"a": 'x\\"[[[[', "b": ["\\", '"', "]]]", '\\\\"{{']},
        ["\\", [["\\\\"]], "[" * 70],
        {"body": "}" * 100 + "[" * 100, "t": [[["\\u005b"]]]},
        {"s": "\\" * 7 + '"' + "[" * 80},
        [{"a": []}, {"b": {}}, [[], [[]]], "é[ü{"],
    ],
)
def test_brackets_and_escapes_inside_strings_do_not_count(value: Any) -> None:
    for raw in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode()):
        d = depth_of(value)
        assert limits.json_too_deep(raw, d) is False
        assert limits.json_too_deep(raw, d - 1) is True


def test_every_github_webhook_example_is_well_within_the_depth_limit() -> None:
    for name in event_names():
        for payload in examples(name):
            raw = json.dumps(payload, indent=2).encode()
            assert not limits.json_too_deep(raw, 12), name
            assert limits.json_too_deep(raw, depth_of(payload) - 1), name


def test_a_deep_document_of_25_mb_is_refused_without_walking_it() -> None:
    raw = b"[" * 12_000_000 + b"]" * 12_000_000
    assert limits.json_too_deep(raw)


# -- read_capped, PageWalk --------------------------------------------------------------------


def test_read_capped_stops_before_the_next_chunk() -> None:
    seen: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(100):
            seen.append(i)
            yield b"x" * 10

    assert limits.read_capped(iter([b"ab", b"cd"]), 4, "it", ValueError) == b"abcd"
    with pytest.raises(ValueError, match=r"^it is over the limit of 25 bytes; stopped"):
        limits.read_capped(chunks(), 25, "it", ValueError)
    assert seen == [0, 1, 2]


def test_page_walk_keys_pages_by_their_url_with_the_query_in_order() -> None:
    walk = limits.PageWalk("GET /x", GitHubError, max_pages=3)
    walk.visit("https://API.example.com:443/x?per_page=100&page=1")
    walk.visit("https://api.example.com/x?per_page=100&page=2")
    with pytest.raises(GitHubError, match=r"^GET /x: the API's Link header loops: "):
        walk.visit("https://api.example.com/x?page=1&per_page=100")
    walk.visit("https://api.example.com/x?per_page=100&page=3")
    with pytest.raises(GitHubError, match=r"^GET /x: more than 3 pages"):
        walk.visit("https://api.example.com/x?per_page=100&page=4")


# -- YAML -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "size: &x [*x]\n",
        "labels: &x {k: *x}\n",
        "size:\n  bands: &b\n    - *b\n",
        "size: &x\n  a: [1, {b: *x}]\n",
    ],
)
def test_a_recursive_yaml_anchor_is_one_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, source=".github/steward.yml")
    message = str(exc.value)
    assert message.startswith(".github/steward.yml:")
    assert "refers to itself" in message
    assert "\n" not in message


def test_an_alias_to_a_finished_anchor_is_still_fine() -> None:
    with pytest.raises(ConfigError, match="unknown key"):  # read, then validated
        parse_config("a: &x [1]\nb: *x\n", source="c.yml")


# -- JSON inputs ------------------------------------------------------------------------------


def _deep_payload(depth: int) -> dict[str, Any]:
    payload = pull_request_event("opened", title="feat: x")
    payload["extra"] = nested(depth - 1)
    assert depth_of(payload) == depth
    return payload


def test_a_payload_file_nested_past_the_limit_is_an_input_error(tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(_deep_payload(limits.MAX_JSON_DEPTH)))
    assert load_payload(ok)["action"] == "opened"
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps(_deep_payload(limits.MAX_JSON_DEPTH + 1)))
    with pytest.raises(InputError) as exc:
        read_json(deep, "payload")
    assert str(exc.value) == f"{deep}: payload is nested deeper than 64 levels"


def test_a_webhook_delivery_nested_past_the_limit_is_a_400() -> None:
    fine = json.dumps(_deep_payload(limits.MAX_JSON_DEPTH)).encode()
    assert intake.payload(fine, "application/json")[0]["action"] == "opened"
    deep = json.dumps(_deep_payload(limits.MAX_JSON_DEPTH + 1)).encode()
    for full in (False, True):
        with pytest.raises(intake.Rejected) as exc:
            intake.payload(deep, "application/json", full=full)
        assert (exc.value.status, exc.value.reason) == (400, "payload")
        assert exc.value.detail == "payload is nested deeper than 64 levels"


def test_a_webhook_delivery_over_githubs_size_cap_is_a_413() -> None:
    body = b'{"a": "' + b"x" * intake.MAX_BODY + b'"}'
    with pytest.raises(intake.Rejected) as exc:
        intake.payload(body, "application/json")
    assert exc.value.status == 413


@pytest.mark.parametrize("depth", [limits.MAX_JSON_DEPTH + 1, 5000])
def test_an_api_answer_nested_too_deep_is_one_github_error(depth: int) -> None:
    raw = json.dumps(nested(depth)).encode() if depth < 900 else b"[" * depth + b"]" * depth
    with pytest.raises(GitHubError) as exc:
        sansio.decode_json(200, {"content-type": "application/json"}, raw, "GET /x")
    assert str(exc.value) == "GET /x: the answer is nested deeper than 64 levels"
