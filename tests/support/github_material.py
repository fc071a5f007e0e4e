"""GitHub's own webhook material: real example payloads and the official payload schemas.

Examples come from `@octokit/webhooks-examples` and are checked against
`@octokit/webhooks-schemas` (JSON Schema draft 7; one definition per event and action, named
``<event>$<action>``, e.g. ``pull_request$opened``). The examples have no merged PR, no edited
PR, no closed issue and no conventional titles, so `pull_request_event` and friends derive those
variants from a real example and validate the result against the official definition before
handing it out: a derived payload can never take a shape GitHub does not send.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
OCTOKIT = ROOT / "node_modules" / "@octokit"
EXAMPLES = OCTOKIT / "webhooks-examples" / "api.github.com" / "index.json"
SCHEMA = OCTOKIT / "webhooks-schemas" / "schema.json"

# The repository every example payload comes from (all of @octokit's examples use it).
REPO = "Codertocat/Hello-World"
MERGED_AT = "2019-05-15T15:21:00Z"


class PayloadSchemaError(AssertionError):
    """A payload does not match GitHub's published schema for its event and action."""


@cache
def _examples() -> dict[str, list[dict[str, Any]]]:
    return {e["name"]: e["examples"] for e in json.loads(EXAMPLES.read_text("utf-8"))}


@cache
def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA.read_text("utf-8"))
    return data


def event_names() -> list[str]:
    return sorted(_examples())


def examples(event: str, action: str | None = None) -> list[dict[str, Any]]:
    """Deep copies of the real examples of ``event`` (with ``action`` when given)."""
    found = [
        copy.deepcopy(e)
        for e in _examples().get(event, [])
        if action is None or e.get("action") == action
    ]
    if not found:
        raise LookupError(f"@octokit/webhooks-examples has no {event}/{action} example")
    return found


def valid_examples(event: str, action: str | None = None) -> list[dict[str, Any]]:
    """The examples that match the official schema (each event's first example is an older
    summary payload the schemas no longer accept; derivations start from a valid one)."""
    out = []
    for e in examples(event, action):
        try:
            validate_webhook(event, e)
        except PayloadSchemaError:
            continue
        out.append(e)
    return out


def base_example(event: str, action: str) -> dict[str, Any]:
    """A deep copy of the first real example of ``event``/``action`` the schema accepts."""
    return copy.deepcopy(_base_example(event, action))


@cache
def _base_example(event: str, action: str) -> dict[str, Any]:
    found = valid_examples(event, action)
    if not found:
        raise LookupError(f"no {event}/{action} example matches the official schema")
    return found[0]


def definition_name(event: str, action: str | None) -> str:
    """The schema's definition for a payload: ``event$action``, or ``event_event`` when the
    event has no actions (e.g. ``push_event``)."""
    defs = _schema()["definitions"]
    name = f"{event}${action}" if action else f"{event}_event"
    if name not in defs:
        raise LookupError(f"@octokit/webhooks-schemas has no definition {name!r}")
    return name


@cache
def _validator(name: str) -> jsonschema.Draft7Validator:
    root = _schema()
    schema = {"$ref": f"#/definitions/{name}", "definitions": root["definitions"]}
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def validate_webhook(event: str, payload: dict[str, Any]) -> None:
    """Raise `PayloadSchemaError` unless ``payload`` matches the official definition."""
    action = payload.get("action")
    name = definition_name(event, action if isinstance(action, str) else None)
    errors = sorted(_validator(name).iter_errors(payload), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message[:200]}" for e in errors]
        raise PayloadSchemaError(f"{name}: " + "; ".join(lines[:5]))


# -- derived variants ------------------------------------------------------------------------


def label_object(
    name: str, color: str = "ededed", description: str | None = None
) -> dict[str, Any]:
    """A label object shaped like the examples' (copied from a real one, then renamed)."""
    real = base_example("pull_request", "labeled")["label"]
    real.update(
        name=name,
        color=color,
        description=description,
        default=False,
        url=f"https://api.github.com/repos/{REPO}/labels/{name.replace(' ', '%20')}",
    )
    return real


def _user(login: str, kind: str = "User") -> dict[str, Any]:
    user = base_example("pull_request", "opened")["pull_request"]["user"]
    user.update(login=login, type=kind)
    for key in ("html_url", "url"):
        if isinstance(user.get(key), str):
            user[key] = user[key].rsplit("/", 1)[0] + f"/{login}"
    return user


def pull_request_event(
    action: str,
    *,
    number: int = 2,
    title: str = "feat(logger): add a sampling rate",
    body: str = "Issue number: #1\n\nBy submitting this pull request, I confirm that my "
    "contribution is made under the terms of the MIT-0 license.",
    labels: tuple[str, ...] = (),
    head_sha: str | None = None,
    author: str = "Codertocat",
    author_kind: str = "User",
    association: str = "OWNER",
    merged: bool = False,
    title_from: str | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """A `pull_request` payload for ``action``, derived from a real example and validated.

    ``edited`` is derived from ``opened`` (adding ``changes.title.from``); ``closed`` with
    ``merged=True`` sets ``merged``, ``merged_at`` and ``merged_by`` on the closed example.
    """
    base = "opened" if action == "edited" else action
    payload = base_example("pull_request", base)
    payload["action"] = action
    payload["number"] = number
    pr = payload["pull_request"]
    pr.update(number=number, title=title, body=body, author_association=association)
    pr["labels"] = [label_object(n) for n in labels]
    pr["user"] = _user(author, author_kind)
    if head_sha is not None:
        pr["head"]["sha"] = head_sha
    if action == "edited":
        payload["changes"] = {"title": {"from": title_from}} if title_from is not None else {}
    if action == "closed":
        pr["merged"] = merged
        if merged:
            pr["merged_at"] = MERGED_AT
            pr["merged_by"] = _user("Codertocat")
            pr["merge_commit_sha"] = "c4295bd74fb0f4d4cae2c5b9c2b4a6d0b0e1f2a3"
        else:
            pr["merged_at"] = None
    if action in {"labeled", "unlabeled"}:
        payload["label"] = label_object(label or "bug")
    validate_webhook("pull_request", payload)
    return payload


def issue_event(
    action: str,
    *,
    number: int = 1,
    title: str = "Logger drops the sampling rate",
    body: str = "It should not.",
    labels: tuple[str, ...] = (),
    author: str = "Codertocat",
    association: str = "OWNER",
    label: str | None = None,
) -> dict[str, Any]:
    """An `issues` payload for ``action``; ``closed`` is derived from ``opened`` (state,
    ``closed_at``, ``state_reason``)."""
    base = "opened" if action == "closed" else action
    payload = base_example("issues", base)
    payload["action"] = action
    issue = payload["issue"]
    issue.update(number=number, title=title, body=body, author_association=association)
    issue["labels"] = [label_object(n) for n in labels]
    issue["user"] = _user(author)
    if action == "closed":
        issue.update(state="closed", closed_at="2019-05-15T16:00:00Z", state_reason="completed")
    if action == "labeled":
        payload["label"] = label_object(label or "bug")
    validate_webhook("issues", payload)
    return payload


def release_event(
    action: str = "published",
    *,
    tag: str = "v3.2.0",
    prerelease: bool = False,
    draft: bool = False,
) -> dict[str, Any]:
    payload = base_example("release", action)
    rel = payload["release"]
    rel.update(
        tag_name=tag,
        name=tag,
        prerelease=prerelease,
        draft=draft,
        html_url=f"https://github.com/{REPO}/releases/tag/{tag}",
    )
    validate_webhook("release", payload)
    return payload
