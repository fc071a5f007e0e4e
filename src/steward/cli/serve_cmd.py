"""`steward serve`: the GitHub App server, its workers and its database.

``steward serve`` alone runs the server (intake, ``/healthz``, ``/metrics`` and ``--workers``
worker threads) under uvicorn; the subcommands are listed in `SUBCOMMANDS`, loaded lazily like
the top-level commands (`steward.cli.main.Entry`). Add a subcommand with one line there.
"""

from __future__ import annotations

import shlex
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from steward.cli.common import json_option
from steward.cli.main import Entry, LazyGroup, echo_json
from steward.errors import StewardError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from steward.server.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
KINDS = ("event", "sweep")

SUBCOMMANDS: dict[str, Entry] = {
    "migrate": Entry("steward.cli.serve_cmd", "migrate", "Create or upgrade the database schema."),
    "worker": Entry("steward.cli.serve_cmd", "worker", "Run workers only (any machine)."),
    "status": Entry("steward.cli.serve_cmd", "status", "Jobs per state and the dead letters."),
    "retry": Entry("steward.cli.serve_cmd", "retry", "Queue dead jobs again."),
    "manifest": Entry(
        "steward.cli.serve_cmd", "manifest_cmd", "Create the GitHub App from a manifest."
    ),
    # Commands of the GitHub App side: they find what they need in ctx.meta (see `serve`).
    "reconcile": Entry(
        "steward.cli.reconcile_cmd", "reconcile_cmd", "Redeliver what never reached the inbox."
    ),
}


def settings_options(f: F) -> F:
    """``--config FILE`` and ``--database URL``: shared by every serve command."""
    f = click.option(
        "--database",
        "database_url",
        metavar="URL",
        help="sqlite:///FILE (default sqlite:///steward-server.db) or postgresql://... "
        "Default: $STEWARD_DATABASE_URL.",
    )(f)
    return click.option(
        "--config",
        "server_config",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Server settings (TOML). Default: $STEWARD_SERVER_CONFIG. STEWARD_* "
        "variables override it.",
    )(f)


def _settings(server_config: Path | None, **overrides: Any) -> Settings:
    from steward.server.settings import load_settings

    return load_settings(server_config, overrides=overrides)


@contextmanager
def _database(settings: Settings, *, migrate: bool = True) -> Iterator[Engine]:
    """The engine, the schema at its head (migrated unless ``migrate`` is off: then a
    SQLite file that does not exist is refused, exit 2, rather than made); a database that
    cannot be reached is one line and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from steward.server import db

    if not migrate:
        db.require_existing(settings.database_url)
    engine = db.make_engine(settings.database_url)
    try:
        try:
            db.ensure_schema(engine, migrate_if_needed=migrate)
        except SQLAlchemyError as exc:
            raise StewardError(_db_error(engine, exc)) from None
        yield engine
    finally:
        engine.dispose()


def _db_error(engine: Engine, exc: Exception) -> str:
    from steward.github.sansio import one_line
    from steward.server.db import describe

    reason = getattr(exc, "orig", None) or exc
    return f"database {describe(engine)}: {one_line(str(reason), 200)}"


def _logging(settings: Settings) -> None:
    from steward.server import logs

    logs.configure(settings.log_level, as_json=settings.log_json, secrets=settings.secrets())


@click.group(
    cls=LazyGroup,
    entries=SUBCOMMANDS,
    invoke_without_command=True,
    epilog="Settings: STEWARD_APP_ID, STEWARD_PRIVATE_KEY_FILE, STEWARD_WEBHOOK_SECRET, "
    "STEWARD_DATABASE_URL, STEWARD_APP_SLUG; the maintainers' page: STEWARD_PAGE_TOKEN, or "
    "STEWARD_OAUTH_CLIENT_ID, STEWARD_OAUTH_CLIENT_SECRET and STEWARD_MAINTAINERS_TEAM "
    "(or the same keys in --config FILE; docs/server.md lists them all).",
)
@settings_options
@click.option("--host", metavar="ADDR", help="Address to listen on. Default: 127.0.0.1.")
@click.option("--port", type=click.IntRange(0, 65535), help="Port. Default: 8000.")
@click.option(
    "--metrics-host", metavar="ADDR", help="Address of the /metrics listener. Default: 127.0.0.1."
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Port of the /metrics listener (0: none). Default: 9464.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="Worker threads beside the intake (0: intake only). Default: 2.",
)
@click.pass_context
def serve(  # noqa: PLR0917 (click passes one argument per option)
    ctx: click.Context,
    server_config: Path | None,
    database_url: str | None,
    host: str | None,
    port: int | None,
    metrics_host: str | None,
    metrics_port: int | None,
    workers: int | None,
) -> None:
    """Run the GitHub App server: verify webhooks, keep them in a durable inbox, and process
    them with the same policies as `steward handle`.

    \b
    Deliveries are committed to the inbox (SQLite by default; PostgreSQL by URL for
    workers on several machines) before GitHub gets its 2xx; workers claim them, retry
    failures with backoff and keep those that keep failing as dead letters (`serve status`,
    `serve retry`). GET /healthz and /readyz are served beside the webhook; /metrics
    (Prometheus) and the maintainers' page (when STEWARD_PAGE_TOKEN or GitHub sign-in is
    set) on their own listener (--metrics-host, --metrics-port).

    \b
    Example:
      STEWARD_APP_ID=123 STEWARD_PRIVATE_KEY_FILE=app.pem STEWARD_WEBHOOK_SECRET=... \\
        steward serve --port 8000 --database postgresql://steward@db/steward
    """
    if ctx.invoked_subcommand is not None:
        _offer_reconcile(ctx, server_config, database_url)
        return
    settings = _settings(
        server_config,
        database_url=database_url,
        host=host,
        port=port,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        workers=workers,
    )
    settings.require_app()
    _logging(settings)
    run_server(settings)


def _offer_reconcile(
    ctx: click.Context, server_config: Path | None, database_url: str | None
) -> None:
    """What `steward serve reconcile` needs, made only if it runs: a client acting as the App
    and the inbox's ``known(guid)``."""
    from steward.cli.reconcile_cmd import DEPS_KEY, ReconcileDeps

    def make() -> ReconcileDeps:
        from steward.server import db
        from steward.server.deliveries import Deliveries
        from steward.server.github_app import GitHubApp

        settings = _settings(server_config, database_url=database_url)
        if settings.app_id is None or settings.private_key is None:
            raise UsageError(
                "steward serve reconcile needs the App id (STEWARD_APP_ID) and private key "
                "(STEWARD_PRIVATE_KEY_FILE)"
            )
        db.require_existing(settings.database_url)
        app = GitHubApp(
            settings.app_id, settings.private_key.get_secret_value(), base_url=settings.api_url
        )
        engine = db.make_engine(settings.database_url, pool_size=0)
        ctx.call_on_close(engine.dispose)
        store = Deliveries(engine)

        def known(guid: str) -> bool:
            from sqlalchemy.exc import SQLAlchemyError

            try:
                return store.known(guid)
            except SQLAlchemyError as exc:
                raise StewardError(_db_error(engine, exc)) from None

        return ReconcileDeps(client_factory=app.app_client, known=known)

    ctx.meta[DEPS_KEY] = make


def run_server(settings: Settings) -> None:
    """The server under uvicorn, until SIGINT or SIGTERM (then the workers finish their
    jobs and the intake its commits). Everything it needs is checked before it serves: the
    database and its schema, the App's key, both listeners' addresses (one line, exit 2;
    a database that cannot be reached, exit 1)."""
    import uvicorn

    from steward.server.app import create_app

    with _database(settings) as engine:
        settings.check_private_key()
        sock = _listen(settings.host, settings.port, "the webhook listener")
        if settings.metrics_port:
            _serve_operator(settings, engine)
        app = create_app(settings, engine, metrics_route=False)
        config = _uvicorn_config(app, settings, lifespan="on", timeout_graceful_shutdown=30)
        uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int, what: str) -> Any:
    """A listening socket on ``host:port``, or one line (exit 2) saying why not."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, addr = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise UsageError(f"{what} cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


OPERATOR_CONNECTIONS = 100


def _uvicorn_config(app: Any, settings: Settings, **extra: Any) -> Any:
    """uvicorn for one of steward's listeners: steward's own logs, no proxy headers or
    server header, short keep-alive, small header buffer, slow clients cut off
    (`guarded_protocol`, bounded by ``settings``)."""
    import uvicorn

    from steward.server.app import guarded_protocol
    from steward.server.metrics import METRICS

    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        http=guarded_protocol(settings, METRICS),
        **extra,
    )


def _serve_operator(settings: Settings, engine: Any) -> None:
    """The operator listener (`/metrics` and the maintainers' page) in a thread of this
    process, on ``metrics_host:metrics_port`` (127.0.0.1 by default)."""
    import uvicorn

    from steward.server.page.app import create_operator_app

    host, port = settings.metrics_host, settings.metrics_port
    sock = _listen(host, port, "the metrics and page listener")
    app = create_operator_app(settings, engine)
    # The webhook's bounds on slow clients, with fewer connections: a scraper and a few
    # maintainers, not GitHub's deliveries.
    bounds = settings.model_copy(update={"max_connections": OPERATOR_CONNECTIONS})
    server = uvicorn.Server(_uvicorn_config(app, bounds, lifespan="off"))
    threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="operator-listener", daemon=True
    ).start()


def _serve_metrics(host: str, port: int) -> None:
    """`/metrics` (Prometheus) on its own listener, in a thread of this process."""
    from prometheus_client import start_http_server

    from steward.server.metrics import METRICS

    try:
        start_http_server(port, addr=host, registry=METRICS.registry)
    except OSError as exc:
        raise UsageError(
            f"the metrics listener cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None


@click.command()
@settings_options
@click.option("--revision", default="head", show_default=True, help="Schema revision to reach.")
@json_option
def migrate(
    server_config: Path | None, database_url: str | None, revision: str, as_json: bool
) -> None:
    """Create the server's tables, or upgrade them to this version's schema (Alembic).

    `steward serve` and `steward serve worker` do it too when they start; run it yourself
    before rolling out several machines at once.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from steward.server import db

    settings = _settings(server_config, database_url=database_url)
    engine = db.make_engine(settings.database_url, pool_size=0)
    try:
        before = db.current_revision(engine)
        db.migrate(engine, revision)
        after = db.current_revision(engine)
    except SQLAlchemyError as exc:
        raise StewardError(_db_error(engine, exc)) from None
    finally:
        engine.dispose()
    where = db.describe(engine)
    if as_json:
        echo_json({"database": where, "before": before, "after": after})
    elif before == after:
        click.echo(f"{where}: schema at {after}, nothing to do")
    else:
        click.echo(f"{where}: schema {before or 'empty'} -> {after}")


@click.command()
@settings_options
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker threads in this process.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve this process's Prometheus metrics on PORT (path /metrics).",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDR",
    help="Address for --metrics-port.",
)
@json_option
def worker(  # noqa: PLR0917 (click passes one argument per option)
    server_config: Path | None,
    database_url: str | None,
    concurrency: int,
    metrics_port: int | None,
    metrics_host: str,
    as_json: bool,
) -> None:
    """Run workers without the intake, against the server's database.

    Start as many as the load needs, on any machine that reaches the database
    (PostgreSQL): they share the jobs without ever running one twice at the same time,
    and a worker that dies leaves its job to another once its lease expires. When it
    stops (SIGTERM, Ctrl-C) it says how many jobs it finished, retried and buried.
    """
    settings = _settings(server_config, database_url=database_url)
    if settings.deps_factory == "steward.server.processing:app_deps":
        _require_credentials(settings)
    _logging(settings)
    done = run_worker_process(settings, concurrency, metrics_port, metrics_host)
    if as_json:
        echo_json(done)
    else:
        click.echo("  ".join(f"{what}: {n}" for what, n in done.items()))


def _require_credentials(settings: Settings) -> None:
    if settings.app_id is None or settings.private_key is None:
        raise UsageError(
            "steward serve worker needs the App id (STEWARD_APP_ID) and private key "
            "(STEWARD_PRIVATE_KEY_FILE)"
        )


def run_worker_process(
    settings: Settings,
    concurrency: int,
    metrics_port: int | None,
    metrics_host: str = "127.0.0.1",
) -> dict[str, int]:
    """Worker threads until SIGTERM or SIGINT; then each finishes its job (a job cut short
    by a harder stop is taken again once its lease expires). What they did: jobs
    processed, failed attempts (retried) and dead."""
    from steward.server.inbox import Inbox
    from steward.server.jobs import Backoff
    from steward.server.metrics import METRICS
    from steward.server.worker import deps_when_github_answers, start_workers

    with _database(settings) as engine:
        settings.check_private_key()
        inbox = Inbox(
            engine,
            max_attempts=settings.max_attempts,
            backoff=Backoff(settings.backoff_seconds, settings.backoff_max_seconds),
        )
        if metrics_port is not None:
            METRICS.watch_inbox(inbox.maintenance.counts)
            _serve_metrics(metrics_host, metrics_port)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            deps = deps_when_github_answers(settings, engine, stop)
            threads = (
                [] if deps is None else start_workers(inbox, deps, settings, concurrency, stop=stop)
            )
            while not stop.wait(0.5):
                pass
            for thread in threads:
                thread.join(settings.lease_seconds)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return {
        what: int(sum(METRICS.value(f"steward_jobs_{what}_total", kind=k) for k in KINDS))
        for what in ("processed", "failed", "dead")
    }


@click.command()
@settings_options
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
def status(server_config: Path | None, database_url: str | None, limit: int, as_json: bool) -> None:
    """Jobs per state, and the newest dead letters with their last error."""
    from steward.server.jobs import Jobs
    from steward.server.maintenance import Maintenance

    settings = _settings(server_config, database_url=database_url)
    with _database(settings, migrate=False) as engine:
        counts = Maintenance(engine).counts()
        dead = Jobs(engine).dead(limit)
    if as_json:
        from steward.server.db import aware

        for row in dead:
            died = aware(row["finished_at"])
            row["finished_at"] = died.isoformat() if died else None
        echo_json({"jobs": counts, "dead": dead})
        return
    click.echo("  ".join(f"{state}: {n}" for state, n in counts.items()))
    for row in dead:
        what = f"{row['event']} {row['delivery_id']}" if row["delivery_id"] else row["kind"]
        click.echo(f"dead #{row['id']} {what} ({row['subject']}): {row['last_error']}")


@click.command()
@settings_options
@click.argument("job_ids", nargs=-1, type=int, metavar="[JOB_ID]...")
@click.option("--all", "every", is_flag=True, help="Every dead job.")
@json_option
def retry(
    server_config: Path | None,
    database_url: str | None,
    job_ids: tuple[int, ...],
    every: bool,
    as_json: bool,
) -> None:
    """Queue dead jobs again with fresh attempts (after fixing what killed them)."""
    from steward.server.db import job_states
    from steward.server.jobs import Jobs

    if bool(job_ids) == every:
        raise UsageError("name dead jobs (JOB_ID...) or pass --all")
    settings = _settings(server_config, database_url=database_url)
    with _database(settings, migrate=False) as engine:
        if job_ids:
            _only_dead(job_states(engine, list(job_ids)), job_ids)
        n = Jobs(engine, max_attempts=settings.max_attempts).retry(None if every else job_ids)
    if as_json:
        echo_json({"queued": n})
    else:
        click.echo(f"{n} job(s) queued again")


def _only_dead(states: dict[int, str], job_ids: tuple[int, ...]) -> None:
    """Refuse (exit 2) job ids that name no job, or a job that is not dead."""
    missing = [i for i in job_ids if i not in states]
    if missing:
        raise UsageError("no such job: " + ", ".join(str(i) for i in missing))
    alive = [f"{i} ({states[i]})" for i in job_ids if states[i] != "dead"]
    if alive:
        raise UsageError("not dead, nothing to retry: job " + ", ".join(alive))


# -- the GitHub App, created from its manifest -------------------------------------------------


@click.command("manifest")
@click.option("--url", metavar="URL", help="The server's public base URL (webhook: URL/webhook).")
@click.option("--name", default="steward", show_default=True, help="The App's name.")
@click.option("--org", metavar="ORG", help="Create the App in this organization (else: yours).")
@click.option("--public", is_flag=True, help="Any account may install it (else: only its owner).")
@click.option(
    "--redirect-url",
    metavar="URL",
    help="Where GitHub sends you with the code after approval. Default: --url.",
)
@click.option(
    "--github-url",
    default="https://github.com",
    show_default=True,
    metavar="URL",
    help="GitHub's web address (GitHub Enterprise Server: https://HOST).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Write the HTML page whose form creates the App (else print the manifest).",
)
@click.option("--convert", "code", metavar="CODE", help="Trade GitHub's code for the App's keys.")
@click.option(
    "--api-url",
    default="https://api.github.com",
    show_default=True,
    metavar="URL",
    help="With --convert: GitHub's API (Enterprise Server: https://HOST/api/v3).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="With --convert: where to write the App's id, slug, secret and key (made if absent).",
)
@json_option
def manifest_cmd(  # noqa: PLR0917 (click passes one argument per option)
    url: str | None,
    name: str,
    org: str | None,
    public: bool,
    redirect_url: str | None,
    github_url: str,
    output: Path | None,
    code: str | None,
    api_url: str,
    directory: Path | None,
    as_json: bool,
) -> None:
    """Create the GitHub App from steward's manifest, in two steps.

    \b
    1. `--url https://HOST --output app.html`: a page whose form sends the manifest
       (steward's permissions and events, the webhook at HOST/webhook) to GitHub. Open
       it, approve the App; GitHub redirects to HOST/?code=CODE (the page need not load).
    2. `--convert CODE --dir DIR`, within the hour (a code works once): writes the App's
       id, slug, webhook secret and private key (0600) into DIR and prints the STEWARD_*
       variables to export, never the secrets (`eval "$(steward serve manifest ...)"`).

    Without --output, step 1 prints the manifest JSON.
    """
    if code is None:
        if directory is not None:
            raise UsageError("--dir goes with --convert CODE")
        if url is None:
            raise UsageError("give --url URL (step 1) or --convert CODE (step 2, after approval)")
        from steward.server.manifest import app_manifest, new_app_url

        data = app_manifest(url, name=name, public=public, redirect_url=redirect_url or url)
        _manifest_page(data, new_app_url(org, github_url), output, as_json)
        return
    if url is not None or output is not None:
        raise UsageError("--convert CODE is step 2: it takes no --url or --output")
    if directory is None:
        raise UsageError("--convert needs --dir DIR, where the App's credentials go")
    _convert_manifest(code, api_url, directory, as_json)


def _manifest_page(data: dict[str, Any], action: str, output: Path | None, as_json: bool) -> None:
    """The manifest JSON, or (``output``) the page whose form posts it to ``action``."""
    from steward.fsutil import atomic_write_text
    from steward.server.manifest import registration_page

    if output is None:
        echo_json(data)
        return
    written = atomic_write_text(output, registration_page(data, action), newline="\n")
    if as_json:
        echo_json({"output": str(written), "action": action, "manifest": data})
    else:
        click.echo(f"wrote {written}: open it in a browser to create the App on GitHub")


def _convert_manifest(code: str, api_url: str, directory: Path, as_json: bool) -> None:
    """Step 2 (`steward.server.registration`), then what to export."""
    from steward.server.registration import convert_manifest_code

    app = convert_manifest_code(code, api_url, directory)
    env = app.env
    if as_json:
        echo_json(
            {
                "app_id": app.app_id,
                "slug": app.slug,
                "html_url": app.html_url,
                "install_url": app.install_url,
                "files": app.files,
                "env": env,
            }
        )
        return
    click.echo(
        f"created the GitHub App {app.slug} (id {app.app_id}); its files are in {directory}",
        err=True,
    )
    if "webhook_secret" not in app.files:
        click.echo(
            "warning: GitHub returned no webhook secret: set one in the App's settings and "
            "export STEWARD_WEBHOOK_SECRET",
            err=True,
        )
    if app.install_url:
        click.echo(f"install it on your repositories: {app.install_url}", err=True)
    for key, value in env.items():
        click.echo(f"export {key}={shlex.quote(value)}")
