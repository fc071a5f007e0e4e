"""Webhook intake as pure functions: headers, signature, and what to store. No I/O here.

GitHub signs each delivery with HMAC-SHA256 of the raw body under the webhook secret, in
``X-Hub-Signature-256: sha256=<hex>``. Only that header counts (the SHA-1 one is never
read), and it is compared in constant time. What a delivery becomes (`incoming`): the
verified body, its keys (``X-GitHub-Hook-ID``, ``X-GitHub-Delivery``), the installation, and
the subject whose jobs must run in order: ``OWNER/NAME#N`` for a pull request or issue.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import msgspec

from steward import limits
from steward.domain.events import MAX_PAYLOAD_BYTES
from steward.server.deliveries import Incoming

MAX_BODY = MAX_PAYLOAD_BYTES  # GitHub caps a webhook payload at 25 MB
EVENT = "x-github-event"
DELIVERY = "x-github-delivery"
SIGNATURE = "x-hub-signature-256"
HOOK_ID = "x-github-hook-id"
REQUIRED = (EVENT, DELIVERY, SIGNATURE)
# Events that change what the server keeps (schedules, the config cache), beside those the
# policies handle.
BOOKKEEPING = frozenset({"installation", "installation_repositories", "push"})
_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_HOOK = re.compile(r"^[0-9]{1,20}$")


class Rejected(Exception):
    """A request the intake refuses: ``status`` and a one-line reason (also the metric's
    label, so it is one of a few fixed words)."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Headers:
    event: str
    delivery: str
    signature: str
    hook_id: str


def headers(raw: Mapping[str, str]) -> Headers:
    """The delivery's headers; a missing or malformed one is a 400."""
    missing = [h for h in REQUIRED if not raw.get(h)]
    if missing:
        names = ", ".join(_title(h) for h in missing)
        raise Rejected(400, "headers", f"missing {names}")
    event, delivery = raw[EVENT], raw[DELIVERY]
    if not _TOKEN.match(event) or not _TOKEN.match(delivery):
        raise Rejected(400, "headers", "malformed X-GitHub-Event or X-GitHub-Delivery")
    hook_id = raw.get(HOOK_ID, "")
    if hook_id and not _HOOK.match(hook_id):
        raise Rejected(400, "headers", "malformed X-GitHub-Hook-ID")
    return Headers(event, delivery, raw[SIGNATURE], hook_id)


def _title(name: str) -> str:
    return "-".join("GitHub" if p == "github" else p.capitalize() for p in name.split("-"))


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is ``sha256=`` and the HMAC-SHA256 of ``body``, compared in
    constant time. Any other algorithm is refused."""
    if not secret or not signature.startswith("sha256="):
        return False
    expected = sign(secret, body).encode("ascii")
    try:
        given = signature.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


def payload(
    body: bytes, content_type: str | None, *, full: bool = False
) -> tuple[dict[str, Any], bytes]:
    """The payload's JSON bytes and what the intake reads of it. GitHub sends
    ``application/json``, or (a webhook set to form encoding) ``payload=<json>``; anything
    else, or JSON that is not an object, is a 400.

    The payload is checked whole, but only the fields the intake uses are made into Python
    objects (`Skeleton`: a few microseconds for a 25 KB payload, where a full parse takes
    twenty); the dict returned has the payload's shape, holding only those. ``full``: the
    whole payload (a push, whose commits say whether the config changed).

    Bounded (`steward.limits`): a body over GitHub's 25 MB cap is a 413 (the server also
    stops reading one there), JSON nested deeper than `limits.MAX_JSON_DEPTH` a 400.
    """
    if len(body) > MAX_BODY:
        raise Rejected(413, "size", "payload is over GitHub's 25 MB cap")
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    raw = body
    if ctype == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("ascii"), strict_parsing=True, max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            raise Rejected(400, "payload", "form body is not url-encoded") from None
        values = form.get("payload")
        if not values or len(values) != 1:
            raise Rejected(400, "payload", "form body has no payload field")
        raw = values[0].encode("utf-8")
    if not full:
        try:
            skeleton = _SKELETON.decode(raw).as_payload()
        except msgspec.ValidationError:
            pass  # a field of another type than GitHub documents: read it all below
        except RecursionError:
            raise _too_deep() from None
        except msgspec.DecodeError:
            raise Rejected(400, "payload", "payload is not JSON") from None
        else:
            if limits.json_too_deep(raw):
                raise _too_deep()
            return skeleton, raw
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # also what msgspec declines: huge integers
        try:
            data = json.loads(raw)
        except RecursionError:
            raise _too_deep() from None
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "payload", "payload is not JSON") from None
    if not isinstance(data, dict):
        raise Rejected(400, "payload", "payload is not a JSON object")
    if limits.json_too_deep(raw):
        raise _too_deep()
    return data, raw


def _too_deep() -> Rejected:
    return Rejected(400, "payload", f"payload is nested deeper than {limits.MAX_JSON_DEPTH} levels")


class _Number(msgspec.Struct):
    number: int | None = None


class _Id(msgspec.Struct):
    id: int | None = None


class _Repo(msgspec.Struct):
    full_name: str | None = None


class _Login(msgspec.Struct):
    login: str | None = None


class Skeleton(msgspec.Struct):
    """The fields of a payload the intake reads; the rest is checked, not built."""

    action: str | None = None
    installation: _Id | None = None
    repository: _Repo | None = None
    sender: _Login | None = None
    pull_request: _Number | None = None
    issue: _Number | None = None

    def as_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        if self.installation is not None:
            out["installation"] = {"id": self.installation.id}
        if self.repository is not None:
            out["repository"] = {"full_name": self.repository.full_name}
        if self.sender is not None:
            out["sender"] = {"login": self.sender.login}
        if self.pull_request is not None:
            out["pull_request"] = {"number": self.pull_request.number}
        if self.issue is not None:
            out["issue"] = {"number": self.issue.number}
        return out


_SKELETON = msgspec.json.Decoder(Skeleton)


@cache
def handled_events() -> frozenset[str]:
    """Events the workers act on: those the policies handle, and the bookkeeping ones."""
    from steward.policies.registry import policies

    names = {name for p in policies() for name in p.events}
    if "pull_request" in names:
        names.add("pull_request_target")
    return frozenset(names | BOOKKEEPING)


def sender(data: Mapping[str, Any]) -> str | None:
    who = data.get("sender")
    login = who.get("login") if isinstance(who, dict) else None
    return login if isinstance(login, str) else None


def is_from(data: Mapping[str, Any], bot: str | None) -> bool:
    """Whether the delivery's sender is ``bot`` (the App's own bot: its own writes come back
    as events, and acting on them again would only loop)."""
    login = sender(data)
    return bot is not None and login is not None and login.casefold() == bot.casefold()


def incoming(head: Headers, data: Mapping[str, Any], raw: bytes) -> Incoming:
    """What the inbox stores for a verified delivery."""
    action = data.get("action")
    inst = data.get("installation")
    inst_id = inst.get("id") if isinstance(inst, dict) else None
    if not isinstance(inst_id, int) or isinstance(inst_id, bool):
        inst_id = None
    repo = data.get("repository")
    full_name = repo.get("full_name") if isinstance(repo, dict) else None
    full_name = full_name if isinstance(full_name, str) and len(full_name) <= 200 else None
    who = sender(data)
    enqueue = head.event in handled_events() and inst_id is not None
    if head.event == "push":  # only a push that may have changed the config file
        from steward.server.repo_config import push_touches_config

        enqueue = enqueue and push_touches_config(data)
    return Incoming(
        hook_id=head.hook_id,
        delivery_id=head.delivery,
        event=head.event,
        action=action[:100] if isinstance(action, str) else None,
        installation_id=inst_id,
        repository=full_name,
        sender=who[:140] if who else None,
        subject=subject(head, data, full_name, inst_id),
        body=raw,
        enqueue=enqueue,
    )


def subject(
    head: Headers, data: Mapping[str, Any], full_name: str | None, installation: int | None
) -> str:
    """The key whose jobs run in order: one pull request or issue (they share numbers), one
    repository's releases, one installation's bookkeeping; else the delivery alone."""
    if full_name is not None:
        for key in ("pull_request", "issue"):
            item = data.get(key)
            number = item.get("number") if isinstance(item, dict) else None
            if isinstance(number, int) and not isinstance(number, bool):
                return f"{full_name}#{number}"
        if head.event == "release":
            return f"{full_name}!release"
        if head.event == "push":
            return f"{full_name}!config"
    if head.event in BOOKKEEPING and installation is not None:
        return f"installation:{installation}"
    return f"delivery:{head.hook_id}:{head.delivery}"
