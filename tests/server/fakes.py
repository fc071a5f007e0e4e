"""Worker dependencies on the local test GitHub (`tests.support.github_server`): a plain
token client instead of installation tokens, the playbook's default config for every
repository. `local_github_deps` is a ``deps_factory`` for servers run in a subprocess: it
reads the server's URL and token from ``STEWARD_TEST_GITHUB_URL`` and ``..._TOKEN``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.config.model import config_model
from steward.github.client import GitHubClient
from steward.server.metrics import METRICS, InstrumentedTransport, Metrics
from steward.server.processing import WorkerDeps

if TYPE_CHECKING:
    from steward.config.model import StewardConfig

BOT = "steward-bot"  # GitHubServer's token user: the comments it posts are its own


def token_deps(
    url: str,
    token: str,
    *,
    repos: tuple[str, ...] = ("Codertocat/Hello-World",),
    bot: str = BOT,
    metrics: Metrics | None = None,
    config: StewardConfig | None = None,
    backoff: float = 0.01,
) -> WorkerDeps:
    cfg = config or config_model()()
    clients: dict[int, GitHubClient] = {}  # one per installation, shared, as GitHubApp's

    def github_for(installation_id: int) -> GitHubClient:
        if installation_id not in clients:
            clients[installation_id] = GitHubClient(
                token,
                url,
                transport=InstrumentedTransport(installation_id, metrics=metrics or METRICS),
                max_retries=1,
                backoff=backoff,
                max_wait=1.0,
            )
        return clients[installation_id]

    return WorkerDeps(
        github_for=github_for,
        config_for=lambda installation_id, full_name: cfg,
        bot_login=bot,
        repositories_for=lambda installation_id: list(repos),
    )


def local_github_env(
    database_url: str, github_url: str, token: str, secret: str, **extra: str
) -> dict[str, str]:
    """The environment of a `steward serve` process whose workers use `local_github_deps`
    against the test GitHub server at ``github_url``; ``extra`` adds or overrides settings."""
    return {
        "STEWARD_APP_ID": "1",
        "STEWARD_PRIVATE_KEY": "unused: the test's deps factory uses a plain token",
        "STEWARD_WEBHOOK_SECRET": secret,
        "STEWARD_BOT_LOGIN": BOT,
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_DEPS_FACTORY": "tests.server.fakes:local_github_deps",
        "STEWARD_TEST_GITHUB_URL": github_url,
        "STEWARD_TEST_GITHUB_TOKEN": token,
        "STEWARD_POLL_INTERVAL": "0.05",
        # No survey unless a test asks for one: these local GitHubs serve no releases, and
        # a survey due at a random time would meet that once in a while.
        "STEWARD_SURVEY_INTERVAL_SECONDS": "0",
        **extra,
    }


def app_server_env(
    key_pem: str,
    api_url: str,
    app_id: int,
    secret: str,
    database_url: str,
    key_dir: Path,
    **extra: str,
) -> dict[str, str]:
    """The environment of a `steward serve` process with the App's own dependencies
    (installation tokens signed with ``key_pem``, written to ``key_dir/app.pem``) against
    the local GitHub App at ``api_url``; ``extra`` adds or overrides settings (surveys are
    off unless it turns them on: most local GitHubs serve no releases)."""
    key = key_dir / "app.pem"
    key.write_text(key_pem)
    return {
        "STEWARD_APP_ID": str(app_id),
        "STEWARD_PRIVATE_KEY_FILE": str(key),
        "STEWARD_WEBHOOK_SECRET": secret,
        "STEWARD_API_URL": api_url,
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_POLL_INTERVAL": "0.05",
        "STEWARD_SURVEY_INTERVAL_SECONDS": "0",
        **extra,
    }


def local_github_deps(settings: Any, engine: Any) -> WorkerDeps:
    return token_deps(
        os.environ["STEWARD_TEST_GITHUB_URL"], os.environ["STEWARD_TEST_GITHUB_TOKEN"]
    )
