"""GitHub App authentication: the App's JWT, installation tokens, and clients per installation.

How GitHub documents it: the App signs a JWT with its private key (RS256; ``iat`` 60 seconds
in the past against clock drift, ``exp`` at most 10 minutes ahead, ``iss`` the App's ID) and
uses it for the App's own endpoints (``/app/...``): listing webhook deliveries, redelivering
them, and ``POST /app/installations/{id}/access_tokens``, which returns an installation
token valid for an hour. Every call on a repository goes out with that installation token.

`GitHubApp` caches each installation's token until shortly before it expires (five minutes
by default), and hands out one client per installation (`github_for`), shared by every
worker thread and kept for the life of the App: it asks for the current token before each
request, so it never goes out with an expired one. Each installation has one `WritePacer`
(writes paced and serialised, rate-limit pauses honoured by every worker of that
installation); all share the `EtagStore` (conditional GETs; keys are scoped by
installation). `close` closes the clients.

The App's endpoints themselves (who it is, installation tokens, an installation's
repositories) are calls of the adapter (`github.app_api`); this module keeps the keys, the
caches and the clients.

The private key and every token stay out of logs and error messages (the client redacts its
own token; the key is never formatted).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from steward.errors import ConfigError
from steward.github.app_api import AppApi, InstallationToken, installation_repositories
from steward.github.budget import Budget, EtagStore, PacingPolicy, WritePacer
from steward.github.client import DEFAULT_API_URL, GitHubClient, Transport

log = logging.getLogger(__name__)

JWT_BACKDATE = 60  # seconds: GitHub's advice against clock drift
JWT_LIFETIME = 600  # seconds: GitHub refuses an exp more than 10 minutes ahead
JWT_REUSE = 300  # seconds a JWT is reused before a new one is signed
REFRESH_MARGIN = 300.0  # seconds before expiry at which a cached token is replaced
APP_SCOPE = 0  # the pacer key of the App's own (JWT) requests


def load_private_key(pem: str | bytes) -> RSAPrivateKey:
    """The App's private key (PEM, as GitHub hands it out); a `ConfigError` otherwise."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            "the GitHub App's private key is not a PEM private key without a passphrase "
            "(use the .pem file GitHub generated for the App)"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError("the GitHub App's private key must be an RSA key (GitHub signs RS256)")
    return key


def app_jwt(app_id: int | str, key: RSAPrivateKey, now: float) -> str:
    """The App's JWT at ``now``: ``iat`` 60 s back, ``exp`` 10 minutes ahead, ``iss`` the ID."""
    issued = int(now)
    claims = {
        "iat": issued - JWT_BACKDATE,
        "exp": issued + JWT_LIFETIME,
        "iss": str(app_id),
    }
    return jwt.encode(claims, key, algorithm="RS256")


class GitHubApp:
    """One GitHub App: its JWT, its installations' tokens and clients, their budgets.

    ``etags`` is shared by all installations' clients (the server's database table);
    ``on_budget(installation_id, budget)`` is called after every response of an
    installation's clients (``installation_id`` 0 for the App's own JWT requests), and
    `budgets` returns the latest of each, for metrics. ``client_options`` go to every
    `GitHubClient` (``max_retries``, ``backoff``, ``max_wait``, ``timeout``);
    ``transport_for(installation_id)`` gives a client its transport (e.g. one that counts
    calls for metrics), ``installation_id`` 0 for the App's own client.
    """

    def __init__(
        self,
        app_id: int | str,
        private_key: str | bytes,
        *,
        base_url: str = DEFAULT_API_URL,
        etags: EtagStore | None = None,
        pacing: PacingPolicy | None = None,
        on_budget: Callable[[int, Budget], None] | None = None,
        refresh_margin: float = REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        client_options: dict[str, Any] | None = None,
        transport_for: Callable[[int], Transport] | None = None,
    ) -> None:
        self.app_id = str(app_id).strip()
        if not self.app_id:
            raise ConfigError("the GitHub App's ID is empty")
        self._key = load_private_key(private_key)
        self.base_url = base_url.rstrip("/")
        self.etags = etags
        self.pacing = pacing or PacingPolicy()
        self.refresh_margin = refresh_margin
        self._on_budget = on_budget
        self._clock = clock
        self._sleep = sleep
        self._options = dict(client_options or {})
        self._transport_for = transport_for
        self._jwt: tuple[str, float] | None = None
        self._clients: dict[int, GitHubClient] = {}
        self._lock = threading.RLock()  # pacer() is called under it
        self._tokens: dict[int, InstallationToken] = {}
        self._token_locks: dict[int, threading.Lock] = {}
        self._pacers: dict[int, WritePacer] = {}
        self._bot_login: str | None = None
        self.tokens_issued = 0  # installation tokens requested from GitHub (for tests, logs)

    # -- the App itself -------------------------------------------------------------------

    def jwt(self) -> str:
        """The App's JWT for its own endpoints: signed anew every five minutes (it is valid
        for ten)."""
        now = self._clock()
        with self._lock:
            if self._jwt is None or not 0 <= now - self._jwt[1] < JWT_REUSE:
                self._jwt = (app_jwt(self.app_id, self._key, now), now)
            return self._jwt[0]

    def app_client(self) -> GitHubClient:
        """A new client authenticated as the App (a current JWT on every request), for
        ``/app/...``; the caller closes it."""
        return self._client(APP_SCOPE, self.jwt, etags=False, counts_writes=False)

    def bot_login(self) -> str:
        """The App's bot account (``<slug>[bot]``), the author of its comments; read once."""
        if self._bot_login is None:
            with self.app_client() as client:
                self._bot_login = AppApi(client).app().bot_login
        return self._bot_login

    # -- installations --------------------------------------------------------------------

    def installation_token(self, installation_id: int) -> str:
        """The installation's token, from the cache while it has more than the refresh
        margin left, else a new one (one request per installation at a time)."""
        with self._lock:
            lock = self._token_locks.setdefault(installation_id, threading.Lock())
        with lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and cached.fresh(self._clock(), self.refresh_margin):
                return cached.token
            with self.app_client() as client:
                made = AppApi(client).create_installation_token(installation_id)
            with self._lock:  # `forget_token` reads and drops it under this lock
                self._tokens[installation_id] = made
                self.tokens_issued += 1
            log.info(
                "installation %d: new token, expires at %s",
                installation_id,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(made.expires_at)),
            )
            return made.token

    def forget_token(self, installation_id: int, token: str | None = None) -> None:
        """Drop the cached token (GitHub rejected it: revoked, or the App was reinstalled);
        with ``token``, only if that is still the cached one, so a burst of requests that
        met the same rejection makes one new token, not one each."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and (token is None or cached.token == token):
                del self._tokens[installation_id]

    def github_for(self, installation_id: int) -> GitHubClient:
        """The installation's client: its current token on every request, its pacer, the
        shared ETag store. One per installation, shared and reused: do not close it
        (`close` does). The first call gets the token, so an installation GitHub does not
        know fails here (`NotFoundError`), not in the middle of a job."""
        self.installation_token(installation_id)
        with self._lock:
            client = self._clients.get(installation_id)
            if client is None:

                def token() -> str:
                    return self.installation_token(installation_id)

                def rejected(token: str | None) -> None:
                    self.forget_token(installation_id, token)

                client = self._client(installation_id, token, rejected)
                self._clients[installation_id] = client
            return client

    def close(self) -> None:
        """Close every installation's client."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()

    def __enter__(self) -> GitHubApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def repositories(self, installation_id: int) -> list[str]:
        """The full names of the repositories the installation can reach
        (``GET /installation/repositories``, conditional when there is an ETag store)."""
        return installation_repositories(self.github_for(installation_id))

    def pacer(self, installation_id: int) -> WritePacer:
        """The installation's pacer (made on first use, then shared by its clients)."""
        with self._lock:
            pacer = self._pacers.get(installation_id)
            if pacer is None:
                pacer = WritePacer(
                    self.pacing,
                    clock=self._clock,
                    sleep=self._sleep,
                    on_budget=self._budget_hook(installation_id),
                )
                self._pacers[installation_id] = pacer
            return pacer

    def budgets(self) -> dict[int, Budget]:
        """The latest budget of every installation seen (0: the App's own requests)."""
        with self._lock:
            pacers = dict(self._pacers)
        return {iid: p.budget() for iid, p in pacers.items()}

    # -- internals ------------------------------------------------------------------------

    def _budget_hook(self, installation_id: int) -> Callable[[Budget], None] | None:
        hook = self._on_budget
        if hook is None:
            return None

        def publish(budget: Budget) -> None:
            hook(installation_id, budget)

        return publish

    def _client(
        self,
        scope: int,
        token: Callable[[], str],
        rejected: Callable[[str | None], None] | None = None,
        *,
        etags: bool = True,
        counts_writes: bool = True,
    ) -> GitHubClient:
        options = dict(self._options)
        if self._transport_for is not None:
            options["transport"] = self._transport_for(scope)
        return GitHubClient(
            None,
            self.base_url,
            token_source=token,
            on_token_rejected=rejected,
            counts_writes=counts_writes,
            sleep=self._sleep,
            clock=self._clock,
            etags=self.etags if etags else None,
            etag_scope=f"installation:{scope}",
            pacer=self.pacer(scope),
            **options,
        )
