"""`steward serve`: the GitHub App server, its workers and its database.

``steward serve`` alone runs the server (intake, ``/healthz``, ``/metrics`` and ``--workers``
worker threads) under uvicorn; the subcommands are listed in `SUBCOMMANDS`, loaded lazily like
the top-level commands (`steward.cli.main.Entry`). Add a subcommand with one line there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shlex
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
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

    from steward.github.app_api import ManifestConversion
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
        "steward.server.reconcile", "reconcile_cmd", "Redeliver what never reached the inbox."
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
    """The engine, the schema at its head (migrated unless ``migrate`` is off); a database
    that cannot be reached is one line and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from steward.server import db

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
    "STEWARD_DATABASE_URL, STEWARD_APP_SLUG (or the same keys in --config FILE).",
)
@settings_options
@click.option("--host", metavar="ADDR", help="Address to listen on. Default: 127.0.0.1.")
@click.option("--port", type=click.IntRange(0, 65535), help="Port. Default: 8000.")
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
    workers: int | None,
) -> None:
    """Run the GitHub App server: verify webhooks, keep them in a durable inbox, and process
    them with the same policies as `steward handle`.

    \b
    Deliveries are committed to the inbox (SQLite by default; PostgreSQL by URL for
    workers on several machines) before GitHub gets its 2xx; workers claim them, retry
    failures with backoff and keep those that keep failing as dead letters (`serve status`,
    `serve retry`). GET /healthz and /metrics (Prometheus) are served beside the webhook.

    \b
    Example:
      STEWARD_APP_ID=123 STEWARD_PRIVATE_KEY_FILE=app.pem STEWARD_WEBHOOK_SECRET=... \\
        steward serve --port 8000 --database postgresql://steward@db/steward
    """
    if ctx.invoked_subcommand is not None:
        _offer_reconcile(ctx, server_config, database_url)
        return
    settings = _settings(
        server_config, database_url=database_url, host=host, port=port, workers=workers
    )
    settings.require_app()
    _logging(settings)
    run_server(settings)


def _offer_reconcile(
    ctx: click.Context, server_config: Path | None, database_url: str | None
) -> None:
    """What `steward serve reconcile` needs, made only if it runs: a client acting as the App
    and the inbox's ``known(guid)``."""
    from steward.server.reconcile import DEPS_KEY, ReconcileDeps

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
    jobs and the intake its commits)."""
    import uvicorn

    from steward.server.app import create_app

    with _database(settings) as engine:
        app = create_app(settings, engine)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=30,
        )
        uvicorn.Server(config).run()


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
    from steward.server.processing import load_factory
    from steward.server.worker import start_workers

    with _database(settings) as engine:
        inbox = Inbox(
            engine,
            max_attempts=settings.max_attempts,
            backoff=Backoff(settings.backoff_seconds, settings.backoff_max_seconds),
        )
        deps = load_factory(settings.deps_factory)(settings, engine)
        if metrics_port is not None:
            from prometheus_client import start_http_server

            METRICS.watch_inbox(inbox.maintenance.counts)
            start_http_server(metrics_port, addr=metrics_host, registry=METRICS.registry)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            threads = start_workers(inbox, deps, settings, concurrency, stop=stop)
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
    from steward.server.jobs import Jobs

    if bool(job_ids) == every:
        raise UsageError("name dead jobs (JOB_ID...) or pass --all")
    settings = _settings(server_config, database_url=database_url)
    with _database(settings, migrate=False) as engine:
        n = Jobs(engine, max_attempts=settings.max_attempts).retry(None if every else job_ids)
    if as_json:
        echo_json({"queued": n})
    else:
        click.echo(f"{n} job(s) queued again")


# -- the GitHub App, created from its manifest -------------------------------------------------

# What `manifest --convert` writes into DIR: setting -> file name. The secrets are 0600.
APP_FILES = {
    "app_id": "app-id",
    "app_slug": "app-slug",
    "webhook_secret": "webhook-secret",
    "private_key": "private-key.pem",
}
SECRET_FILES = frozenset({"webhook_secret", "private_key"})
# os.link's errors on a filesystem without hard links (FAT, some network and FUSE mounts)
NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})
MAX_CODE = 200


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
    """POST /app-manifests/{code}/conversions (no authentication: the code is the
    credential), then the App's credentials into ``directory``.

    The code works once and GitHub hands the key and secret out only then: everything that
    can be checked (no file to overwrite, the directory made and a file written in it) is
    checked before the POST; what still fails after it says what was lost."""
    from steward.errors import NotFoundError
    from steward.github.app_api import ConversionAnswerError, convert_manifest
    from steward.github.client import GitHubClient
    from steward.server.manifest import public_url

    code = code.strip()
    if not code or len(code) > MAX_CODE or any(c.isspace() for c in code):
        raise UsageError("--convert takes the code from GitHub's redirect (?code=...)")
    api = public_url(api_url, what="--api-url")
    targets = {key: directory / name for key, name in APP_FILES.items()}
    made = _prepare_dir(directory, targets.values())
    unreadable: ConversionAnswerError | None = None
    try:
        _probe_dir(directory)
        with GitHubClient(None, api) as client:
            try:
                conversion = convert_manifest(client, code)
            except NotFoundError:
                raise StewardError(
                    "GitHub does not know this code: a code works once, for an hour; create "
                    "the App again from the manifest (or delete the one it made)"
                ) from None
            except ConversionAnswerError as exc:
                unreadable = exc
    except BaseException:
        if made:  # empty: no trace of an attempt that spent no code
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    # The code is spent: GitHub made the App and hands its key and secret out this once.
    if unreadable is not None:
        raise StewardError(
            f"{unreadable}; the code is spent: if GitHub created the App, generate a new "
            "private key and set a webhook secret in its settings (or delete it and start again)"
        ) from None
    app_id, slug, html_url = conversion.id, conversion.slug, conversion.html_url
    files = _app_files(conversion)
    written = _save_credentials(targets, files, f"the App {slug} (id {app_id})", html_url)
    env = {
        "STEWARD_APP_ID": str(app_id),
        "STEWARD_APP_SLUG": slug,
        "STEWARD_PRIVATE_KEY_FILE": written["private_key"],
    }
    if "webhook_secret" in written:
        env["STEWARD_WEBHOOK_SECRET_FILE"] = written["webhook_secret"]
    install = f"{html_url}/installations/new" if html_url else None
    if as_json:
        echo_json(
            {
                "app_id": app_id,
                "slug": slug,
                "html_url": html_url,
                "install_url": install,
                "files": written,
                "env": env,
            }
        )
        return
    click.echo(
        f"created the GitHub App {slug} (id {app_id}); its files are in {directory}", err=True
    )
    if "webhook_secret" not in written:
        click.echo(
            "warning: GitHub returned no webhook secret: set one in the App's settings and "
            "export STEWARD_WEBHOOK_SECRET",
            err=True,
        )
    if install:
        click.echo(f"install it on your repositories: {install}", err=True)
    for key, value in env.items():
        click.echo(f"export {key}={shlex.quote(value)}")


def _app_files(app: ManifestConversion) -> dict[str, str]:
    """The texts of the App's files (setting -> text), each as its setting reads it."""
    files = {
        "app_id": f"{app.id}\n",
        "app_slug": f"{app.slug}\n",
        "private_key": app.pem if app.pem.endswith("\n") else app.pem + "\n",
    }
    if app.webhook_secret is not None:
        # read as is (_FILE): a newline would change the HMAC
        files["webhook_secret"] = app.webhook_secret
    return files


def _prepare_dir(directory: Path, targets: Iterable[Path]) -> bool:
    """What can be checked before the code is spent (it works once): no file to overwrite,
    and ``directory`` made (0700) if absent; whether it was made here."""
    taken = [str(p) for p in targets if p.exists() or p.is_symlink()]
    if taken:
        raise UsageError(f"refusing to overwrite {', '.join(taken)}; choose another --dir")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    if not directory.exists() and not directory.is_symlink() and not directory.parent.is_dir():
        raise UsageError(f"directory {directory.parent} does not exist")
    return _make_dir(directory)


def _save_credentials(
    targets: dict[str, Path], files: dict[str, str], app: str, html_url: str | None
) -> dict[str, str]:
    """The App's files written (setting -> absolute path); a failure now, after the code
    was spent, says what is lost and how to get it back, never the secrets themselves."""
    written: dict[str, str] = {}
    try:
        for key in ("private_key", "webhook_secret", "app_id", "app_slug"):
            if key in files:
                target = _write_new(targets[key], files[key], secret=key in SECRET_FILES)
                written[key] = str(target.resolve())
    except (StewardError, OSError) as exc:
        saved = ", ".join(Path(p).name for p in written.values()) or "none"
        where = html_url or "GitHub > Settings > Developer settings > GitHub Apps"
        raise StewardError(
            f"{exc}; GitHub created {app} and the code is spent, but its credentials were not "
            f"all saved (saved: {saved}): in the App's settings ({where}), generate a new "
            "private key and set a new webhook secret, or delete the App and start again"
        ) from None
    return written


def _make_dir(directory: Path) -> bool:
    """``directory`` made (0700) unless it exists; whether it was made here."""
    if directory.is_dir():
        return False
    try:
        directory.mkdir(mode=0o700)
    except FileNotFoundError:
        raise UsageError(f"directory {directory.parent} does not exist") from None
    except FileExistsError:  # a symlink to nothing, or made meanwhile
        raise UsageError(f"{directory}: cannot create: something has that name") from None
    except OSError as exc:
        raise UsageError(f"{directory}: cannot create: {exc.strerror or exc}") from None
    try:
        os.chmod(directory, 0o700)  # whatever the umask
    except OSError as exc:
        with contextlib.suppress(OSError):
            directory.rmdir()  # made here, empty: not left behind
        raise UsageError(f"{directory}: cannot set its mode: {exc.strerror or exc}") from None
    return True


def _probe_dir(directory: Path) -> None:
    """A file written in ``directory`` as the App's files will be (`_write_new`), then
    removed: a directory that cannot take them is found before the code is spent."""
    probe = directory / f".steward-probe-{secrets.token_hex(8)}"
    try:
        _write_new(probe, "probe\n", secret=True)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)


def _mkstemp(directory: Path, prefix: str) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{directory}: cannot write files: {exc.strerror or exc}") from None


def _write_new(target: Path, text: str, *, secret: bool) -> Path:
    """``text`` into a new file ``target``, never replacing one (nor following a symlink):
    written to a temporary file with the final mode (0600 for a secret) and fsynced, then
    hard-linked to ``target``, which fails if anything has that name by then. Where the
    filesystem has no hard links, ``target`` is created exclusively (``O_EXCL``) and
    written in place instead."""
    from steward.fsutil import fsync_dir

    data = text.encode()
    mode = 0o600 if secret else 0o644
    fd, tmp = _mkstemp(target.parent, f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in NO_HARD_LINKS:
                raise
            _write_exclusive(target, data, mode)
    except FileExistsError:
        raise UsageError(f"refusing to overwrite {target}") from None
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    fsync_dir(target.parent)
    return target


def _write_exclusive(target: Path, data: bytes, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
