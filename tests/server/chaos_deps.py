"""The workers' GitHub side in the chaos test: `processing.app_deps` without GitHub's write
spacing (`steward serve worker` loads it as ``STEWARD_DEPS_FACTORY``; kept apart from
`tests.server.chaos` so a restarted worker does not import the test server's OpenAPI
machinery)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from steward.github.budget import PacingPolicy
from steward.server.github_app import GitHubApp
from steward.server.processing import WorkerDeps
from steward.server.repo_config import RepoConfigs
from steward.server.stores import SqlConfigStore, SqlEtagStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from steward.server.settings import Settings

# GitHub's write pacing (a second between writes, 80 a minute, 500 an hour per installation)
# would make 10,000 deliveries take hours on one installation: the spacing and windows are
# off; the pacer itself (one write at a time, rate-limit pauses shared by every thread of
# the process) stays. Client retries start at 50 ms instead of a second.
UNPACED = PacingPolicy(min_interval=0.0, per_minute=0, per_hour=0)
CLIENT_OPTIONS: dict[str, Any] = {"backoff": 0.05, "max_retries": 4, "max_wait": 60.0}


def make_deps(
    app_id: int | str,
    private_key: str,
    api_url: str,
    bot: str | None,
    etags: Any,
    configs: Any,
) -> WorkerDeps:
    """`processing.app_deps`' dependencies (installation tokens, ETag store, config cache)
    with `UNPACED` pacing and `CLIENT_OPTIONS`."""
    app = GitHubApp(
        app_id,
        private_key,
        base_url=api_url,
        etags=etags,
        pacing=UNPACED,
        client_options=CLIENT_OPTIONS,
    )
    repo_configs = RepoConfigs(app.github_for, configs)
    return WorkerDeps(
        github_for=app.github_for,
        config_for=repo_configs.config_for,
        bot_login=bot or app.bot_login(),
        repositories_for=app.repositories,
        on_push=repo_configs.on_push,
    )


def unpaced_app_deps(settings: Settings, engine: Engine) -> WorkerDeps:
    """A ``deps_factory`` for `steward serve worker`: `processing.app_deps` (the server's
    database as ETag store and config cache) with `UNPACED` pacing."""
    assert settings.app_id is not None
    assert settings.private_key is not None
    return make_deps(
        settings.app_id,
        settings.private_key.get_secret_value(),
        settings.api_url,
        settings.bot,
        SqlEtagStore(engine),
        SqlConfigStore(engine),
    )
