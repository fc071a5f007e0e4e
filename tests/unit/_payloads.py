"""Real webhook payloads from @octokit/webhooks-examples, with derived variants.

The examples lack merged PRs, edited PRs, closed issues and conventional titles, so tests
copy a real example and change only the fields they need; every derived payload is validated
against the official @octokit/webhooks-schemas definition of its event before use, so no
test feeds the policies a shape GitHub never sends.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from steward.config.model import StewardConfig
from steward.domain.events import Event, Ignored, parse_event
from steward.domain.models import ChangedFile, Snapshot
from steward.plan import AddLabels, Comment, Plan, RemoveLabel, SetStatus
from steward.policies.context import Context

OCTOKIT = Path(__file__).resolve().parents[2] / "node_modules" / "@octokit"
EXAMPLES = OCTOKIT / "webhooks-examples" / "api.github.com" / "index.json"
SCHEMA = OCTOKIT / "webhooks-schemas" / "schema.json"

Payload = dict[str, Any]


@cache
def _examples() -> dict[str, list[Payload]]:
    data = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return {entry["name"]: entry["examples"] for entry in data}


@cache
def _schema() -> Payload:
    loaded: Payload = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(definition: str) -> jsonschema.Draft7Validator:
    schema = _schema()
    return jsonschema.Draft7Validator(
        {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    )


def example(event: str, action: str) -> Payload:
    """A deep copy of the first real example of ``event``/``action`` that meets the schema.

    Some early examples predate fields the schema now requires; those are passed over.
    """
    check = _validator(f"{event}${action}")
    for e in _examples()[event]:
        if e.get("action") == action and check.is_valid(e):
            return copy.deepcopy(e)
    raise AssertionError(f"no schema-valid {event}/{action} example")  # pragma: no cover


def validate(event: str, payload: Payload) -> Payload:
    """Fail unless ``payload`` matches GitHub's schema for ``event``/its action."""
    errors = sorted(_validator(f"{event}${payload['action']}").iter_errors(payload), key=str)
    assert not errors, f"derived {event} payload breaks the official schema: {errors[0]}"
    return payload


def _label(payload: Payload, name: str) -> Payload:
    """A label object shaped like the example's own labels (GitHub's label schema)."""
    template = {
        "id": 208045946,
        "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
        "url": "https://api.github.com/repos/Codertocat/Hello-World/labels/bug",
        "name": "bug",
        "description": "Something isn't working",
        "color": "d73a4a",
        "default": True,
    }
    return {
        **template,
        "name": name,
        "default": False,
        "url": template["url"].rsplit("/", 1)[0] + "/" + name.replace(" ", "%20"),
    }


def pr_payload(
    action: str = "opened",
    *,
    title: str | None = None,
    body: str | None = None,
    labels: tuple[str, ...] | None = None,
    merged: bool = False,
    association: str | None = None,
    login: str | None = None,
    previous_title: str | None = None,
    label: str | None = None,
) -> Payload:
    """A real ``pull_request`` payload changed as asked, validated against the schema."""
    source = {"edited": "opened", "closed": "closed"}.get(action, action)
    p = example("pull_request", source)
    p["action"] = action
    pr = p["pull_request"]
    if title is not None:
        pr["title"] = title
    if body is not None:
        pr["body"] = body
    if labels is not None:
        pr["labels"] = [_label(p, n) for n in labels]
    if association is not None:
        pr["author_association"] = association
    if login is not None:
        pr["user"]["login"] = login
    if action == "edited":
        p["changes"] = {"title": {"from": previous_title}} if previous_title is not None else {}
    if action == "closed" and merged:
        pr["merged"] = True
        pr["merged_at"] = pr["closed_at"]
        pr["merge_commit_sha"] = pr["merge_commit_sha"] or "c4295bd74fb0f4fda03689c3df3f2803b65"
    if action in {"labeled", "unlabeled"}:
        name = label if label is not None else "bug"
        p["label"] = _label(p, name)
    return validate("pull_request", p)


def issue_payload(
    action: str = "opened",
    *,
    title: str | None = None,
    body: str | None = None,
    labels: tuple[str, ...] | None = None,
    association: str | None = None,
    login: str | None = None,
    number: int | None = None,
    updated_at: str | None = None,
) -> Payload:
    """A real ``issues`` payload changed as asked (``closed`` derived from ``opened``)."""
    p = example("issues", "opened" if action == "closed" else action)
    p["action"] = action
    issue = p["issue"]
    if action == "closed":
        issue["state"] = "closed"
        issue["closed_at"] = issue["updated_at"]
        issue["state_reason"] = "completed"
    if title is not None:
        issue["title"] = title
    if body is not None:
        issue["body"] = body
    if labels is not None:
        issue["labels"] = [_label(p, n) for n in labels]
    if association is not None:
        issue["author_association"] = association
    if login is not None:
        issue["user"]["login"] = login
    if number is not None:
        issue["number"] = number
    if updated_at is not None:
        issue["updated_at"] = updated_at
    return validate("issues", p)


def release_payload(*, tag: str | None = None, prerelease: bool = False) -> Payload:
    p = example("release", "published")
    if tag is not None:
        p["release"]["tag_name"] = tag
        p["release"]["name"] = tag
        p["release"]["html_url"] = p["release"]["html_url"].rsplit("/", 1)[0] + "/" + tag
    p["release"]["prerelease"] = prerelease
    return validate("release", p)


def event(name: str, payload: Payload) -> Event:
    parsed = parse_event(name, payload)
    assert not isinstance(parsed, Ignored), parsed.reason
    return parsed


def pr_event(action: str = "opened", **kw: Any) -> Event:
    return event("pull_request", pr_payload(action, **kw))


def issue_event(action: str = "opened", **kw: Any) -> Event:
    return event("issues", issue_payload(action, **kw))


def release_event(**kw: Any) -> Event:
    return event("release", release_payload(**kw))


def files(*entries: tuple[str, int, int]) -> tuple[ChangedFile, ...]:
    """Changed files as GitHub's "list pull request files" reports them (name, +, -)."""
    return tuple(ChangedFile(name, add, delete) for name, add, delete in entries)


def context(
    ev: Event,
    *,
    snapshot: Snapshot | None = None,
    config: StewardConfig | None = None,
    labels_after: frozenset[str] | None = None,
) -> Context:
    return Context(
        ev,
        snapshot or Snapshot(),
        config or StewardConfig(),
        labels_after if labels_after is not None else frozenset(),
    )


def kinds(plan: Plan) -> list[tuple[str, int]]:
    return [(a.kind, a.number) for a in plan.actions]


def added(plan: Plan, number: int | None = None) -> set[str]:
    return {
        lbl
        for a in plan.actions
        if isinstance(a, AddLabels) and (number is None or a.number == number)
        for lbl in a.labels
    }


def removed(plan: Plan, number: int | None = None) -> set[str]:
    return {
        a.label
        for a in plan.actions
        if isinstance(a, RemoveLabel) and (number is None or a.number == number)
    }


def comments(plan: Plan) -> list[Comment]:
    return [a for a in plan.actions if isinstance(a, Comment)]


def statuses(plan: Plan) -> list[SetStatus]:
    return [a for a in plan.actions if isinstance(a, SetStatus)]
