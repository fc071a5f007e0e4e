"""The server's settings: a TOML file, then the environment (which wins), then the command line.

Every key has an environment variable ``STEWARD_<KEY>`` (upper case) and the same key in the
file (``--config FILE`` or ``$STEWARD_SERVER_CONFIG``)::

    app_id = 123456
    private_key_file = "/etc/steward/app.pem"   # or private_key = "-----BEGIN ..."
    webhook_secret = "..."                      # or webhook_secret_file
    database_url = "postgresql://steward@db/steward"   # default: sqlite:///steward-server.db

Secrets are `SecretStr`: their ``repr`` and ``str`` never show the value, so a settings
object can be logged. `Settings.require_app` is what `steward serve` checks before it starts:
no webhook secret or no App credentials is a usage error (exit 2), never a server that
accepts unsigned deliveries.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from steward.errors import ConfigError, UsageError
from steward.workspace import Limit, read_bytes, read_text

ENV_PREFIX = "STEWARD_"
CONFIG_ENV = "STEWARD_SERVER_CONFIG"
DEFAULT_DATABASE = "sqlite:///steward-server.db"
MAX_FILE_BYTES = int(Limit.CONFIG)
APP_DEPS = "steward.server.processing:app_deps"


class Settings(BaseModel):
    """Everything `steward serve` and its workers are configured with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- the GitHub App -------------------------------------------------------------------
    app_id: int | None = Field(default=None, ge=1)
    private_key: SecretStr | None = None
    """The App's private key (PEM); or `private_key_file`."""
    webhook_secret: SecretStr | None = None
    app_slug: str | None = Field(default=None, max_length=100)
    """The App's slug; its bot (``SLUG[bot]``) is the account whose events are ignored."""
    bot_login: str | None = Field(default=None, max_length=140)
    """The bot's login when it is not ``SLUG[bot]``."""
    api_url: str = "https://api.github.com"

    # -- transport ------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    webhook_path: str = "/webhook"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    """`/metrics` (Prometheus) is served on its own listener, never on the webhook's (0:
    not served)."""
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    """A client has this long, from its connection (or its previous response), to send a
    request's headers; then the connection is closed."""
    body_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    """...and this long, from its headers, to send the whole body."""
    max_connections: int = Field(default=1000, ge=1, le=100_000)
    """Open connections on the webhook listener; one more is closed at once."""
    database_url: str = DEFAULT_DATABASE
    log_level: str = "INFO"
    log_json: bool = True

    # -- workers --------------------------------------------------------------------------
    workers: int = Field(default=2, ge=0, le=64)
    """Worker threads run by `steward serve` beside the intake (0: intake only)."""
    poll_interval: float = Field(default=0.5, gt=0, le=60)
    lease_seconds: float = Field(default=300.0, ge=1)
    """How long a claimed job is a worker's; a worker killed mid-job loses it after this."""
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    sweep_interval_seconds: int = Field(default=86_400, ge=60)
    """How often each installation's repositories are swept (daily by default)."""
    housekeeping_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How often each worker queues the due sweeps."""
    retention_days: int = Field(default=14, ge=1)
    """Finished deliveries older than this are deleted by the workers."""
    survey_interval_seconds: int = Field(default=900, ge=0)
    """How often each installation's repositories are surveyed for the maintainers' page
    (pending releases, blocked PRs, what the next sweep will do, the last releases); 0: no
    survey (the page's Repositories and Releases views stay empty), at least 60 otherwise."""
    deps_factory: str = APP_DEPS
    """``module:callable`` building the workers' `WorkerDeps` from the settings (tests and
    the benchmark point it at a local GitHub)."""

    # -- the maintainers' page (served beside /metrics, on the operator listener) ----------
    page_token: SecretStr | None = None
    """A static sign-in token for the page (local use); or `page_token_file`."""
    oauth_client_id: str | None = Field(default=None, max_length=100)
    """The App's OAuth client id: maintainers sign in with GitHub."""
    oauth_client_secret: SecretStr | None = None
    """The App's OAuth client secret; or `oauth_client_secret_file`."""
    maintainers_team: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^[^/\s,]+/[^/\s,]+(\s*,\s*[^/\s,]+/[^/\s,]+){0,19}$",
    )
    """``ORG/TEAM-SLUG``: the GitHub team whose active members may sign in with GitHub;
    several (at most 20), comma-separated, for a server that serves several organisations:
    a maintainer then sees the installations of the organisations whose team they are in."""
    github_url: str = "https://github.com"
    """GitHub's web origin (the OAuth pages); GitHub Enterprise Server: its host."""
    page_url: str | None = Field(default=None, max_length=500)
    """The page's own address as a browser reaches it (the OAuth callback is built on it);
    default: the address the request came to."""
    session_secret: SecretStr | None = None
    """Signs the page's session cookies; default: derived from the webhook secret, so every
    instance agrees without one more secret."""
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    """How long a sign-in lasts."""

    @field_validator("survey_interval_seconds")
    @classmethod
    def _survey_interval(cls, value: int) -> int:
        if 0 < value < 60:
            raise ValueError("must be 0 (no survey) or at least 60")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @property
    def bot(self) -> str | None:
        """The login of the App's bot, whose own events are ignored."""
        if self.bot_login:
            return self.bot_login
        return f"{self.app_slug}[bot]" if self.app_slug else None

    def secrets(self) -> tuple[str, ...]:
        """The secret values, for redaction in logs."""
        return tuple(
            s.get_secret_value()
            for s in (
                self.private_key,
                self.webhook_secret,
                self.page_token,
                self.oauth_client_secret,
                self.session_secret,
            )
            if s is not None
        )

    def require_app(self) -> None:
        """Refuse to serve without a webhook secret and App credentials."""
        missing = []
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            missing.append("a webhook secret (STEWARD_WEBHOOK_SECRET)")
        if self.app_id is None:
            missing.append("the App id (STEWARD_APP_ID)")
        if self.private_key is None or not self.private_key.get_secret_value().strip():
            missing.append("the App's private key (STEWARD_PRIVATE_KEY_FILE)")
        if missing:
            raise UsageError("steward serve needs " + ", ".join(missing))

    def check_private_key(self) -> None:
        """The private key is one GitHub's JWTs can be signed with (a `ConfigError`, exit 2,
        before anything is served: not a traceback when the first job starts). Only the
        App's own workers sign with it (another ``deps_factory`` brings its own client)."""
        if self.private_key is not None and self.deps_factory == APP_DEPS:
            from steward.server.github_app import load_private_key

            load_private_key(self.private_key.get_secret_value())

    def require_secret(self) -> bytes:
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            raise UsageError("steward serve needs a webhook secret (STEWARD_WEBHOOK_SECRET)")
        return self.webhook_secret.get_secret_value().encode("utf-8")


FIELDS = tuple(Settings.model_fields)
# Keys that may name a file holding the value instead (``private_key_file``).
FILE_KEYS = ("private_key", "webhook_secret", "page_token", "oauth_client_secret", "session_secret")


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """The file (``path``, else ``$STEWARD_SERVER_CONFIG``), then ``STEWARD_*`` variables,
    then ``overrides`` (command-line options that were given); each later source wins."""
    env = os.environ if env is None else env
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_file(path))
    for key in (*FIELDS, *(f"{k}_file" for k in FILE_KEYS)):
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None and raw != "":
            values[key] = raw
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for key in FILE_KEYS:
        file_value = values.pop(f"{key}_file", None)
        if file_value is not None and key not in values:
            values[key] = _read_secret(Path(str(file_value)), key)
    where = str(path) if path is not None else "the environment"
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"unknown setting {key!r}", path=where) from None
        raise ConfigError(f"setting {key}: {first['msg']}", path=where) from None


def _read_file(path: Path) -> dict[str, Any]:
    # A regular file, at most 1 MB (`steward.workspace`): a FIFO never blocks the server.
    raw = read_bytes(path, MAX_FILE_BYTES, "server config", error=ConfigError)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"server config is not TOML: {exc}", path=str(path)) from None
    section = data.get("server", data)
    if not isinstance(section, dict):
        raise ConfigError("[server] must be a table", path=str(path))
    return dict(section)


def _read_secret(path: Path, what: str) -> str:
    what = "the " + what.replace("_", " ")
    return read_text(path, Limit.KEY, what, error=ConfigError)
