"""The GitHub App's own endpoints, as typed calls and records.

`AppApi` wraps a client authenticated as the App (its JWT: `server.github_app.GitHubApp.
app_client`) for what only the App may ask: who it is (``GET /app``), an installation token
(``POST /app/installations/{id}/access_tokens``), its webhook's deliveries (``GET
/app/hook/deliveries``, newest first, paged by cursor) and their redelivery (``POST
/app/hook/deliveries/{id}/attempts``). `installation_repositories` is an installation's own
listing (its token, not the JWT), and `convert_manifest` the one unauthenticated call: the
code GitHub hands out after a manifest's approval, exchanged for the new App's credentials
(``POST /app-manifests/{code}/conversions``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steward.errors import PayloadError
from steward.github.client import GitHubClient, path

log = logging.getLogger(__name__)

DELIVERIES = "/app/hook/deliveries"
CONVERSION = "/app-manifests/{code}/conversions"


# -- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppInfo:
    """The App as ``GET /app`` describes it (what steward needs of it)."""

    slug: str

    @property
    def bot_login(self) -> str:
        """The App's bot account, the author of its comments: ``<slug>[bot]``."""
        return f"{self.slug}[bot]"


@dataclass(frozen=True, slots=True)
class InstallationToken:
    token: str
    expires_at: float  # epoch seconds

    def fresh(self, now: float, margin: float) -> bool:
        return now < self.expires_at - margin


def token_from_api(data: Any, at: str) -> InstallationToken:
    """The token and its expiry from ``POST /app/installations/{id}/access_tokens``."""
    if not isinstance(data, dict):
        raise PayloadError(f"{at}: expected the installation token object")
    token, expires = data.get("token"), data.get("expires_at")
    if not isinstance(token, str) or not token:
        raise PayloadError(f"{at}: the answer has no token")
    if not isinstance(expires, str):
        raise PayloadError(f"{at}: the answer has no expires_at")
    try:
        when = datetime.fromisoformat(expires)
    except ValueError:
        raise PayloadError(f"{at}: expires_at is not a date-time: {expires[:40]!r}") from None
    if when.tzinfo is None:
        raise PayloadError(f"{at}: expires_at has no time zone: {expires[:40]!r}")
    return InstallationToken(token, when.timestamp())


@dataclass(frozen=True, slots=True)
class HookDelivery:
    """One delivery attempt of the App's webhook, as GitHub lists it."""

    id: int
    guid: str
    delivered_at: datetime
    status_code: int
    event: str
    action: str | None
    redelivery: bool

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 400

    @property
    def what(self) -> str:
        return f"{self.event}.{self.action}" if self.action else self.event


def delivery_from_api(item: Any) -> HookDelivery | None:
    """A listed delivery, or ``None`` when it lacks the documented fields."""
    if not isinstance(item, dict):
        return None
    ident, guid, at, code, event = (
        item.get(k) for k in ("id", "guid", "delivered_at", "status_code", "event")
    )
    if not (isinstance(ident, int) and not isinstance(ident, bool) and ident > 0):
        return None
    if not isinstance(guid, str) or not guid or not isinstance(event, str):
        return None
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(at, str):
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    action = item.get("action")
    return HookDelivery(
        id=ident,
        guid=guid,
        delivered_at=when if when.tzinfo else when.replace(tzinfo=UTC),
        status_code=code,
        event=event,
        action=action if isinstance(action, str) else None,
        redelivery=item.get("redelivery") is True,
    )


@dataclass(frozen=True, slots=True)
class ManifestConversion:
    """The App GitHub made from a manifest, with the secrets it hands out this once."""

    id: int
    slug: str
    html_url: str | None
    """The App's page, without a trailing ``/``."""
    pem: str
    """The App's private key (PEM)."""
    webhook_secret: str | None


class ConversionAnswerError(PayloadError):
    """GitHub accepted a manifest code (it is spent now) but its answer lacks what
    `ManifestConversion` needs."""


def conversion_from_api(data: Any) -> ManifestConversion:
    """The App's id, slug, page, key and webhook secret from GitHub's answer
    (``integration`` plus ``pem`` and ``webhook_secret``); a `ConversionAnswerError`
    without them."""
    at = f"POST {CONVERSION}"
    if not isinstance(data, dict):
        raise ConversionAnswerError(f"{at}: the answer is not an object")
    app_id, slug, pem = data.get("id"), data.get("slug"), data.get("pem")
    secret = data.get("webhook_secret")
    if not isinstance(app_id, int) or isinstance(app_id, bool) or app_id < 1:
        raise ConversionAnswerError(f"{at}: the answer has no App id")
    if not isinstance(slug, str) or not slug or any(c.isspace() for c in slug):
        raise ConversionAnswerError(f"{at}: the answer has no App slug")
    if not isinstance(pem, str) or "-----BEGIN" not in pem:
        raise ConversionAnswerError(f"{at}: the answer has no private key")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise ConversionAnswerError(f"{at}: the answer's webhook secret is not a string")
    html_url = data.get("html_url")
    return ManifestConversion(
        id=app_id,
        slug=slug,
        html_url=html_url.rstrip("/") if isinstance(html_url, str) and html_url else None,
        pem=pem,
        webhook_secret=secret,
    )


# -- calls --------------------------------------------------------------------------------


class AppApi:
    """The App's own endpoints, over a client that sends the App's JWT."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client

    def app(self) -> AppInfo:
        """``GET /app``; a `PayloadError` when the answer has no slug."""
        slug = self.client.get_object("/app").get("slug")
        if not isinstance(slug, str) or not slug:
            raise PayloadError("GET /app: the answer has no slug")
        return AppInfo(slug)

    def create_installation_token(self, installation_id: int) -> InstallationToken:
        """A new token for the installation (valid for an hour)."""
        url = path("/app/installations/{id}/access_tokens", id=installation_id)
        return token_from_api(self.client.post(url), f"POST {url}")

    def hook_deliveries(
        self, on_skipped: Callable[[], None] | None = None
    ) -> Iterator[HookDelivery]:
        """The webhook's deliveries, newest first, page by page as they are read (stop
        early to read no more); an item without the documented shape is skipped, and
        ``on_skipped`` told."""
        for item in self.client.paginate(DELIVERIES):
            delivery = delivery_from_api(item)
            if delivery is None:
                if on_skipped is not None:
                    on_skipped()
                continue
            yield delivery

    def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to deliver ``delivery_id`` again (same GUID)."""
        self.client.post(path(DELIVERIES + "/{id}/attempts", id=delivery_id))


def installation_repositories(client: GitHubClient) -> list[str]:
    """The full names of the repositories an installation can reach (``GET
    /installation/repositories``, over the installation's own client)."""
    names: list[str] = []
    for repo in client.paginate("/installation/repositories", items_key="repositories"):
        name = repo.get("full_name") if isinstance(repo, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return names


def convert_manifest(client: GitHubClient, code: str) -> ManifestConversion:
    """Exchange a manifest's ``code`` for the App GitHub made (no authentication: the code
    is the credential, and works once). A code GitHub does not know is a `NotFoundError`;
    an answer without the App's credentials, once the code is spent, a
    `ConversionAnswerError`."""
    data = client.post(path(CONVERSION, code=code))
    return conversion_from_api(data)
