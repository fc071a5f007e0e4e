"""What a worker does with one job: the same snapshot, engine and executor as the CLI.

`process_delivery` is `steward handle` for a delivery from the inbox: parse the event
(`domain.events.parse_event`), skip what the engine skips (`engine.skip_reason`), then the
CLI's one path, `shell.executor.handle_event`: read what the policies need, decide, and apply
with the `Executor`, which reads before it writes, so a job run twice (a worker died after
some writes) writes only what is missing. `process_sweep` is `steward sweep` for every
repository of an installation. The server adds transport, not behaviour: nothing here
decides anything the CLI would not.

`WorkerDeps` is what the GitHub App side provides (`server.github_app`,
`server.repo_config`): a client for an installation, the config of a repository, and the
App bot's login. Errors: a payload or a config that cannot be read will not read better
later (`is_permanent`: the job goes to the dead letters at once); anything else, such as
GitHub failing or rate limiting after the client's own retries, is retried with backoff.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from steward.domain.events import Ignored, parse_event
from steward.engine import skip_reason
from steward.errors import ConfigError, InputError, PayloadError, UsageError
from steward.github.app_api import installation_repositories
from steward.github.repo_api import RepoApi
from steward.server.db import utcnow
from steward.shell.executor import handle_event
from steward.shell.sweeper import sweep_repository

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from steward.config.model import StewardConfig
    from steward.github.client import GitHubClient
    from steward.server.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery, as a worker takes it from the inbox."""

    delivery_id: str
    """``X-GitHub-Delivery``."""
    hook_id: str
    event: str
    """``X-GitHub-Event``."""
    payload: dict[str, Any]
    installation_id: int | None
    received_at: datetime
    attempt: int = 1
    """1 for the first attempt; more when retried or when a worker died mid-job."""


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    """What processing needs from the GitHub App side."""

    github_for: Callable[[int], GitHubClient]
    """The installation's client (its token kept fresh). Shared and reused: processing
    never closes it."""
    config_for: Callable[[int, str], StewardConfig]
    """The `.github/steward.yml` of ``OWNER/NAME`` as the installation reads it (the
    playbook's defaults when the repository has none)."""
    bot_login: str | None
    """The App's bot (``SLUG[bot]``): its own events are ignored, and only its comments
    carry markers steward trusts."""
    repositories_for: Callable[[int], list[str]] | None = None
    """The repositories to sweep; default: the installation's, read from GitHub."""
    on_push: Callable[[int, Mapping[str, Any]], bool] | None = None
    """Told of each push to a default branch that touched the config file (the config
    cache forgets the repository's)."""
    clock: Callable[[], datetime] = field(default=utcnow)


def is_permanent(exc: BaseException) -> bool:
    """An error a retry cannot mend: the job is dead at once (with the error kept)."""
    return isinstance(exc, PayloadError | ConfigError | InputError | UsageError)


def from_bot(payload: dict[str, Any], bot: str | None) -> bool:
    sender = payload.get("sender")
    login = sender.get("login") if isinstance(sender, dict) else None
    return bool(bot and isinstance(login, str) and login.casefold() == bot.casefold())


def process_delivery(delivery: Delivery, deps: WorkerDeps) -> None:
    """Run ``delivery`` through the policies and apply the plan, as `steward handle` does
    (`shell.executor.handle_event`, with the App's bot as steward's identity)."""
    where = {"delivery": delivery.delivery_id, "event": delivery.event}
    if from_bot(delivery.payload, deps.bot_login):
        log.info("ignored: sent by the App's own bot", extra=where)
        return
    if delivery.event == "push":
        _push(delivery, deps)
        return
    event = parse_event(delivery.event, delivery.payload)
    if isinstance(event, Ignored):
        log.info("ignored: %s", event.reason, extra=where)
        return
    installation = delivery.installation_id
    if installation is None:
        log.warning("ignored: the delivery names no installation", extra=where)
        return
    full_name = event.repo.full_name
    config = deps.config_for(installation, full_name)
    reason = skip_reason(event, config)
    if reason is not None:
        log.info("ignored: %s", reason, extra=where)
        return
    api = RepoApi(deps.github_for(installation), full_name)
    handled = handle_event(event, config, api, identity=deps.bot_login)
    result = handled.result
    log.info(
        "processed %s/%s on %s: %d applied, %d unchanged",
        event.name,
        event.action,
        full_name,
        len(result.applied) if result else 0,
        len(result.skipped) if result else 0,
        extra={**where, "repository": full_name, "applied": result.applied if result else []},
    )


def _push(delivery: Delivery, deps: WorkerDeps) -> None:
    """A push that touched the config file: the cached config is forgotten."""
    if deps.on_push is not None and delivery.installation_id is not None:
        deps.on_push(delivery.installation_id, delivery.payload)


def process_sweep(installation_id: int, deps: WorkerDeps, now: datetime | None = None) -> None:
    """`steward sweep` on every repository of the installation: the open items, the
    timelines the fair clock needs, `plan_sweep`, and the executor."""
    now = now or deps.clock()
    names = (
        deps.repositories_for(installation_id)
        if deps.repositories_for is not None
        else installation_repositories(deps.github_for(installation_id))
    )
    for full_name in names:
        config = deps.config_for(installation_id, full_name)
        api = RepoApi(deps.github_for(installation_id), full_name)
        result = sweep_repository(api, config, now, deps.bot_login or None)
        if result is None:
            continue
        log.info(
            "swept %s: %d applied, %d unchanged",
            full_name,
            len(result.applied),
            len(result.skipped),
            extra={"installation": installation_id, "repository": full_name},
        )


DepsFactory = Callable[["Settings", "Engine"], WorkerDeps]


def load_factory(spec: str) -> DepsFactory:
    """``module:callable`` (the ``deps_factory`` setting) as a callable."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"deps_factory must be module:callable, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"deps_factory {spec!r}: cannot import {module_name}: {exc}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(f"deps_factory {spec!r}: {attr} is not a callable of {module_name}")
    return factory  # type: ignore[no-any-return]


def app_deps(settings: Settings, engine: Engine) -> WorkerDeps:
    """The GitHub App's dependencies: installation clients (`server.github_app`: tokens, the
    shared ETag store, write pacing), each repository's config (`server.repo_config`), both
    cached in the server's database (`server.stores`), and the bot's login (``SLUG[bot]``
    from the settings, else read once from ``GET /app``)."""
    from steward.server.github_app import GitHubApp
    from steward.server.metrics import METRICS, InstrumentedTransport
    from steward.server.repo_config import RepoConfigs
    from steward.server.stores import SqlConfigStore, SqlEtagStore

    if settings.app_id is None or settings.private_key is None:
        raise UsageError("the workers need the App id and private key")
    app = GitHubApp(
        settings.app_id,
        settings.private_key.get_secret_value(),
        base_url=settings.api_url,
        etags=SqlEtagStore(engine),
        transport_for=lambda installation: InstrumentedTransport(installation, metrics=METRICS),
    )
    configs = RepoConfigs(app.github_for, SqlConfigStore(engine))
    return WorkerDeps(
        github_for=app.github_for,
        config_for=configs.config_for,
        bot_login=settings.bot or app.bot_login(),
        repositories_for=app.repositories,
        on_push=configs.on_push,
    )
