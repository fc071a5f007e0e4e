"""Every GitHub client shares one TLS context: making one loads the CA bundle (~0.2 s of CPU),
and a server worker made one per App token and per installation client, again in every
worker process started. Sharing must not weaken it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from steward.github import client as client_module
from steward.github.client import GitHubClient, tls_context


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ssl.SSLContext]]:
    contexts: list[ssl.SSLContext] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        ctx = real(*args, **kwargs)  # type: ignore[arg-type]
        contexts.append(ctx)
        return ctx

    monkeypatch.setattr(client_module.httpx, "create_ssl_context", counting)
    tls_context.cache_clear()
    yield contexts
    tls_context.cache_clear()


def test_clients_share_one_tls_context(made: list[ssl.SSLContext]) -> None:
    clients = [GitHubClient("t", "https://api.github.com") for _ in range(3)]
    for c in clients:
        c._tokenless()  # the client for storage hosts the API redirects to
        c.close()
    assert len(made) == 1


def test_the_shared_context_still_verifies_certificates_and_host_names() -> None:
    ctx = tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.cert_store_stats()["x509_ca"] > 0  # a CA bundle is loaded
