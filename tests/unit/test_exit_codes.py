"""The CLI contract, for every command found by walking the click tree from `steward.cli.main.cli`:
exit 2 for usage, config and input errors, 1 for runtime failures, with one line on stderr;
``--repo`` means OWNER/NAME, ``--path`` a directory, ``--json`` wherever a command reports,
and a ``--dry-run`` that would gate nothing is a usage error.

Paths (issue #16, `steward.workspace`): a path the repository's config names that leads out
of the checkout, and a device or a FIFO where a command reads or writes a file, are exit 2
with nothing written anywhere (the whole scratch directory, the outside target included, is
compared before and after).

A command added without a line in the tables below fails `test_every_command_is_classified`.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from steward.cli.main import NeedsExtra, cli
from steward.config.pipeline import PipelineConfig
from steward.pipeline.state import release_dir
from tests.support.cli import run_cli
from tests.unit._payloads import pr_payload

# ---- the command tree ----


def _walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group, info_name=path[-1] if path else "steward")
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        yield " ".join((*path, name)), cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, (*path, name))


COMMANDS = dict(_walk(cli))
# A command whose extra is not installed here stands in as one `NeedsExtra` (tested below).
NEEDS_EXTRA = {name for name, cmd in COMMANDS.items() if isinstance(cmd, NeedsExtra)}
LEAVES = {
    name: cmd for name, cmd in COMMANDS.items() if not isinstance(cmd, click.Group | NeedsExtra)
}
WITH_CONFIG = sorted(n for n, c in LEAVES.items() if any(p.name == "config_file" for p in c.params))


# ---- the world the commands run in: all offline ----


@dataclass(frozen=True)
class World:
    tmp: Path
    notgit: Path  # a directory that is not a git repository
    repo: Path  # a git repository with one commit, no tags, no remote
    bad_config: Path  # a config file with an unknown key
    payload: Path  # a real pull_request/opened payload
    refusing_api: str  # an API (GitHub's, AWS's) that answers 401 to everything
    outside: Path  # a directory beside the checkout, with a `secret` file in it
    fifo: Path  # a FIFO with a writer waiting (a read of it would get EOF, not hang)


class _Refuse(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b'{"message": "Bad credentials"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def refusing_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refusing_api: str, fifo: Path) -> World:
    for var in (
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_REPOSITORY",
        "GITHUB_EVENT_NAME",
        "GITHUB_EVENT_PATH",
        "GITHUB_API_URL",
        "STEWARD_DEBUG",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    notgit = tmp_path / "notgit"
    notgit.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "feat: first"], check=True)
    bad = tmp_path / "bad.yml"
    bad.write_text("nonsense: 1\n", encoding="utf-8")
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps(pr_payload("opened")), encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("hunter2\n", encoding="utf-8")
    return World(tmp_path, notgit, repo, bad, payload, refusing_api, outside, fifo)


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO whose writer waits in a thread: a command that opened it to read would get
    EOF at once and fail its assertion, instead of hanging the test run."""
    path = tmp_path / "fifo"
    os.mkfifo(path)

    def writer() -> None:
        with path.open("wb"):
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    inode = path.lstat().st_ino
    yield path
    # A test may have moved it into the checkout: found again by its inode.
    where = next(p for p in [path, *tmp_path.rglob("*")] if p.exists() and p.stat().st_ino == inode)
    fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's open return
    thread.join(timeout=10)
    os.close(fd)


run = run_cli


def one_error_line(err: str) -> str:
    """The last line of stderr (warnings and notes may precede it), which names the error."""
    lines = err.strip().splitlines()
    assert lines, "nothing on stderr"
    assert "Traceback" not in err
    return lines[-1]


# ---- the tables: what each command needs to reach its config, and how it fails at run time ----

Args = Callable[[World], list[str]]

# The arguments that take each command past its own checks to the point of reading the config.
BEFORE_CONFIG: dict[str, Args] = {
    "changelog": lambda w: ["--path", str(w.repo)],
    "config check": lambda w: [],
    "config show": lambda w: [],
    "docs rebuild": lambda w: ["--version", "1.0.0", "--path", str(w.repo)],
    "handle": lambda w: [
        "--event-name",
        "pull_request",
        "--payload",
        str(w.payload),
        "--dry-run",
    ],
    "labels list": lambda w: [],
    "labels sync": lambda w: ["--repo", "octo/app"],
    "release notes": lambda w: ["--from-git", "--path", str(w.repo)],
    "release run": lambda w: ["--version", "1.0.0", "--path", str(w.repo)],
    "release status": lambda w: ["--path", str(w.tmp)],
    "sweep": lambda w: [],
    "version current": lambda w: ["--path", str(w.repo)],
    "version next": lambda w: ["--path", str(w.repo)],
}


def _github(w: World, mp: pytest.MonkeyPatch) -> None:
    mp.setenv("GITHUB_TOKEN", "not-a-valid-token")
    mp.setenv("GITHUB_API_URL", w.refusing_api)


def _aws(w: World, mp: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ENDPOINT_URL": w.refusing_api,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
    }.items():
        mp.setenv(key, value)
    mp.delenv("AWS_PROFILE", raising=False)


def _app(w: World, mp: pytest.MonkeyPatch) -> None:
    """A GitHub App (real RSA key) whose GitHub refuses it, and a database that is not there."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = w.tmp / "app.pem"
    key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    mp.setenv("STEWARD_APP_ID", "1")
    mp.setenv("STEWARD_PRIVATE_KEY_FILE", str(key))
    mp.setenv("STEWARD_API_URL", w.refusing_api)
    mp.setenv("STEWARD_DATABASE_URL", NO_DATABASE)


NO_DATABASE = "postgresql://steward@127.0.0.1:1/steward"  # nothing listens on port 1


def _corrupt_state(w: World, mp: pytest.MonkeyPatch) -> None:
    state = release_dir(w.tmp, PipelineConfig().state_dir, "1.0.0") / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text("{not json", encoding="utf-8")


def _bad_provenance(w: World, mp: pytest.MonkeyPatch) -> None:
    key = Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (w.tmp / "key.pem").write_bytes(pem)
    (w.tmp / "dist").mkdir()
    (w.tmp / "prov.jsonl").write_text("not an envelope\n", encoding="utf-8")


def _tag_release(w: World, mp: pytest.MonkeyPatch) -> None:
    """v1.0.0 in the checkout: `docs rebuild` rebuilds released versions only (#19)."""
    subprocess.run(["git", "-C", str(w.repo), "tag", "v1.0.0"], check=True)


@dataclass(frozen=True)
class Failure:
    args: Args
    setup: Callable[[World, pytest.MonkeyPatch], None] | None = None


# A failure of the work itself, triggered offline: a path that is not a git repository, a
# GitHub and an AWS that refuse the credentials, a damaged state file, a
# provenance file that is not signed envelopes.
AT_RUN_TIME: dict[str, Failure] = {
    "changelog": Failure(lambda w: ["--path", str(w.notgit)]),
    "docs rebuild": Failure(  # a released version (tagged), but no remote to deploy to
        lambda w: ["--version", "1.0.0", "--path", str(w.repo)], _tag_release
    ),
    "e2e janitor": Failure(lambda w: ["--older-than", "1s"], _aws),
    "handle": Failure(
        lambda w: ["--event-name", "pull_request", "--payload", str(w.payload)], _github
    ),
    "labels sync": Failure(lambda w: ["--repo", "octo/app"], _github),
    "release notes": Failure(lambda w: ["--from-git", "--path", str(w.notgit)]),
    "release run": Failure(lambda w: ["--version", "1.0.0", "--path", str(w.notgit)]),
    "release status": Failure(
        lambda w: ["--version", "1.0.0", "--path", str(w.tmp)], _corrupt_state
    ),
    "release verify": Failure(
        lambda w: [
            str(w.tmp / "dist"),
            "--provenance",
            str(w.tmp / "prov.jsonl"),
            "--public-key",
            str(w.tmp / "key.pem"),
        ],
        _bad_provenance,
    ),
    "serve migrate": Failure(lambda w: ["--database", NO_DATABASE]),
    "serve status": Failure(lambda w: ["--database", NO_DATABASE]),
    "serve retry": Failure(lambda w: ["--all", "--database", NO_DATABASE]),
    "serve worker": Failure(lambda w: [], _app),
    "serve reconcile": Failure(lambda w: ["--since", "1h"], _app),
    "serve manifest": Failure(
        lambda w: ["--convert", "c0de", "--dir", str(w.tmp / "app"), "--api-url", w.refusing_api]
    ),
    "sweep": Failure(lambda w: ["--repo", "octo/app"], _github),
    "version current": Failure(lambda w: ["--path", str(w.notgit)]),
    "version next": Failure(lambda w: ["--path", str(w.notgit)]),
}

# Commands with no runtime failure to trigger offline, and why.
NO_RUNTIME_FAILURE = {
    "config check": "reads one file: every failure is the file's (2)",
    "config show": "reads one file: every failure is the file's (2)",
    "config schema": "prints a constant",
    "labels list": "reads the config only",
    "init": "writes templates into PATH: a path that cannot take them is the user's (2)",
    "e2e migrate": "a file it cannot parse is reported and skipped: exit 0",
}
# Commands with no --config: nothing to read but their arguments.
# (`serve` commands read server settings, not `.github/steward.yml`.)
NO_CONFIG = {
    "config schema",
    "e2e janitor",
    "e2e migrate",
    "init",
    "release verify",
    "serve migrate",
    "serve status",
    "serve retry",
    "serve worker",
    "serve reconcile",
    "serve manifest",
}


# ---- paths (issue #16): each command given a way out of the checkout, and a special file ----


def _config(w: World, text: str) -> None:
    (w.repo / ".github").mkdir(exist_ok=True)
    (w.repo / ".github" / "steward.yml").write_text(text, encoding="utf-8")


def _link(w: World, name: str, target: Path) -> None:
    """``name`` in the checkout, a symlink to ``target`` (outside it): the text of the
    setting is harmless, only the filesystem tells."""
    (w.repo / name).parent.mkdir(parents=True, exist_ok=True)
    (w.repo / name).symlink_to(target)


def _config_out(w: World, mp: pytest.MonkeyPatch) -> None:
    """The checkout's .github/steward.yml is a symlink to a file outside it."""
    (w.outside / "steward.yml").write_text("ignore_authors: []\n", encoding="utf-8")
    _link(w, ".github/steward.yml", w.outside / "steward.yml")


def _version_file_out(w: World, mp: pytest.MonkeyPatch) -> None:
    (w.outside / "v.py").write_text('__version__ = "0.0.1"\n', encoding="utf-8")
    _link(w, "v.py", w.outside / "v.py")
    _config(w, "version:\n  version_file: v.py\n")


def _state_dir_out(w: World, mp: pytest.MonkeyPatch) -> None:
    _link(w, "state", w.outside)
    _config(w, "release:\n  state_dir: state\n")


@dataclass(frozen=True)
class PathCase:
    args: Args
    setup: Callable[[World, pytest.MonkeyPatch], None] | None = None
    says: str = ""  # in the error line


CONFIG_OUT = "config file: .github/steward.yml resolves to "
# (a) A path leading out of the checkout, in the config (or where the command writes).
ESCAPING: dict[str, PathCase] = {
    "changelog": PathCase(
        lambda w: ["--path", str(w.repo), "--output"],
        lambda w, mp: _config(w, "changelog:\n  output: ../outside/CHANGELOG.md\n"),
        "'../outside/CHANGELOG.md' leaves the repository",
    ),
    "config check": PathCase(
        lambda w: ["--path", str(w.repo)],
        lambda w, mp: (
            _link(w, "t.j2", w.outside / "secret"),
            _config(w, "changelog:\n  template: t.j2\n"),
        ),
        "changelog.template: t.j2 resolves to ",
    ),
    "config show": PathCase(lambda w: ["--path", str(w.repo)], _config_out, CONFIG_OUT),
    "docs rebuild": PathCase(
        lambda w: ["--version", "1.0.0", "--path", str(w.repo), "--dry-run"],
        lambda w, mp: (
            _link(w, "mkdocs.yml", w.outside / "secret"),
            _config(w, "release:\n  docs:\n    mkdocs_config: mkdocs.yml\n"),
        ),
        "release.docs.mkdocs_config: mkdocs.yml resolves to ",
    ),
    "handle": PathCase(
        lambda w: [*BEFORE_CONFIG["handle"](w), "--path", str(w.repo)], _config_out, CONFIG_OUT
    ),
    "init": PathCase(
        lambda w: ["--path", str(w.repo)],
        lambda w, mp: _link(w, ".github", w.outside),
        ".github/steward.yml resolves to ",
    ),
    "labels list": PathCase(lambda w: ["--path", str(w.repo)], _config_out, CONFIG_OUT),
    "labels sync": PathCase(
        lambda w: ["--repo", "octo/app", "--path", str(w.repo)], _config_out, CONFIG_OUT
    ),
    "release notes": PathCase(
        lambda w: ["--from-git", "--path", str(w.repo)],
        _version_file_out,
        "version.version_file: v.py resolves to ",
    ),
    "release run": PathCase(
        lambda w: ["--version", "1.0.0", "--path", str(w.repo)],
        _state_dir_out,
        "release.state_dir: state resolves to ",
    ),
    "release status": PathCase(
        lambda w: ["--path", str(w.repo)], _state_dir_out, "release.state_dir: state resolves to "
    ),
    "sweep": PathCase(
        lambda w: ["--path", str(w.repo), "--items", str(w.payload), "--dry-run"],
        _config_out,
        CONFIG_OUT,
    ),
    "version current": PathCase(
        lambda w: ["--path", str(w.repo)], _version_file_out, "version.version_file: v.py resolves"
    ),
    "version next": PathCase(
        lambda w: ["--path", str(w.repo), "--write"],
        _version_file_out,
        "version.version_file: v.py resolves",
    ),
}
# Commands that read no config path, and why a path outside the checkout is not refused.
NO_ESCAPE = {
    "config schema": "takes no path",
    "e2e janitor": "takes no path",
    "e2e migrate": "rewrites only the files under the PATH typed on its command line",
    "release verify": "reads only the files typed on its command line, wherever they are",
    "serve manifest": "writes only where its --output or --dir says (the user's choice)",
    "serve migrate": "server settings are the operator's (command line, environment)",
    "serve reconcile": "server settings are the operator's (command line, environment)",
    "serve retry": "server settings are the operator's (command line, environment)",
    "serve status": "server settings are the operator's (command line, environment)",
    "serve worker": "server settings are the operator's (command line, environment)",
}


def _fifo_as(name: str) -> Callable[[World, pytest.MonkeyPatch], None]:
    """The checkout's ``name`` is the FIFO (moved there)."""

    def setup(w: World, mp: pytest.MonkeyPatch) -> None:
        (w.repo / name).parent.mkdir(parents=True, exist_ok=True)
        w.fifo.rename(w.repo / name)
        object.__setattr__(w, "fifo", w.repo / name)

    return setup


def _server_config_fifo(w: World, mp: pytest.MonkeyPatch) -> None:
    mp.setenv("STEWARD_SERVER_CONFIG", str(w.fifo))


IS_FIFO = "is a FIFO, not a regular file"
# (b) A FIFO or a device where the command reads or writes a file.
SPECIAL: dict[str, PathCase] = {
    "changelog": PathCase(
        lambda w: ["--path", str(w.repo), "--output", "/dev/null"],
        None,
        "--output /dev/null: is a character device, not a regular file",
    ),
    "config check": PathCase(lambda w: [str(w.fifo)], None, IS_FIFO),
    "config show": PathCase(lambda w: ["--config", str(w.fifo)], None, IS_FIFO),
    "docs rebuild": PathCase(
        lambda w: ["--version", "1.0.0", "--path", str(w.repo), "--dry-run"],
        _fifo_as("mkdocs.yml"),
        "release.docs.mkdocs_config: mkdocs.yml is a FIFO",
    ),
    "e2e migrate": PathCase(lambda w: [str(w.fifo), "--write"], None, IS_FIFO),
    "handle": PathCase(
        lambda w: ["--event-name", "pull_request", "--payload", str(w.fifo), "--dry-run"],
        None,
        IS_FIFO,
    ),
    "init": PathCase(
        lambda w: ["--path", str(w.repo)],
        _fifo_as(".github/steward.yml"),
        ".github/steward.yml is a FIFO",
    ),
    "labels list": PathCase(lambda w: ["--config", str(w.fifo)], None, IS_FIFO),
    "labels sync": PathCase(lambda w: ["--repo", "octo/app", "--config", "/dev/null"], None),
    "release notes": PathCase(
        lambda w: ["--from-git", "--path", str(w.repo)],
        _fifo_as(".github/steward.yml"),
        "config file: .github/steward.yml is a FIFO",
    ),
    "release run": PathCase(
        lambda w: ["--version", "1.0.0", "--path", str(w.repo)],
        _fifo_as(".steward"),
        "release.state_dir: .steward is a FIFO, not a directory",
    ),
    "release status": PathCase(
        lambda w: ["--path", str(w.repo)],
        _fifo_as(".steward"),
        "release.state_dir: .steward is a FIFO, not a directory",
    ),
    "release verify": PathCase(
        lambda w: [str(w.tmp), "--provenance", str(w.fifo), "--public-key", str(w.payload)],
        None,
        IS_FIFO,
    ),
    "serve manifest": PathCase(
        lambda w: ["--url", "https://example.com", "--output", "/dev/null"],
        None,
        "/dev/null is a character device, not a regular file",
    ),
    "serve migrate": PathCase(lambda w: ["--config", str(w.fifo)], None, IS_FIFO),
    "serve reconcile": PathCase(lambda w: ["--since", "1h"], _server_config_fifo, IS_FIFO),
    "serve retry": PathCase(lambda w: ["--all", "--config", str(w.fifo)], None, IS_FIFO),
    "serve status": PathCase(lambda w: ["--config", "/dev/null"], None, "a character device"),
    "serve worker": PathCase(lambda w: ["--config", str(w.fifo)], None, IS_FIFO),
    "sweep": PathCase(lambda w: ["--items", str(w.fifo), "--dry-run"], None, IS_FIFO),
    "version current": PathCase(
        lambda w: ["--path", str(w.repo)],
        _fifo_as("pyproject.toml"),
        "version.pyproject: pyproject.toml is a FIFO",
    ),
    "version next": PathCase(
        lambda w: ["--path", str(w.repo), "--write"],
        _fifo_as("pyproject.toml"),
        "version.pyproject: pyproject.toml is a FIFO",
    ),
}
NO_SPECIAL = {
    "config schema": "takes no path",
    "e2e janitor": "takes no path",
}


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``root`` (symlinks not followed): its type and content."""
    out: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                out[str(path.relative_to(root))] = ("link", os.readlink(path))
            elif stat.S_ISREG(mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[str(path.relative_to(root))] = ("file", digest)
            else:
                out[str(path.relative_to(root))] = (oct(stat.S_IFMT(mode)), "")
    return out


# ---- the tests ----


def _present(commands: set[str] | dict[str, object]) -> set[str]:
    """Those not behind a missing extra here."""
    return {c for c in commands if not any(c.startswith(n) for n in NEEDS_EXTRA)}


def test_every_command_is_classified() -> None:
    assert {"handle", "version next", "release verify"} <= set(LEAVES)
    assert set(WITH_CONFIG) == _present(set(BEFORE_CONFIG)), "add it to BEFORE_CONFIG"
    assert set(LEAVES) - set(WITH_CONFIG) == _present(NO_CONFIG)
    unclassified = set(LEAVES) - set(AT_RUN_TIME) - set(NO_RUNTIME_FAILURE)
    assert unclassified == set(), "add them to AT_RUN_TIME or NO_RUNTIME_FAILURE"
    assert not set(AT_RUN_TIME) & set(NO_RUNTIME_FAILURE)
    assert set(LEAVES) == _present(set(ESCAPING) | set(NO_ESCAPE)), "add it to ESCAPING"
    assert not set(ESCAPING) & set(NO_ESCAPE)
    assert set(LEAVES) == _present(set(SPECIAL) | set(NO_SPECIAL)), "add it to SPECIAL"
    assert not set(SPECIAL) & set(NO_SPECIAL)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_option_exits_2(
    command: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*command.split(), "--no-such-option"], capsys)
    if command in NEEDS_EXTRA:  # whatever it is given, it says which extra to install
        assert code == 1
        assert "pip install 'repo-steward[" in one_error_line(err)
        return
    assert code == 2, err
    assert "No such option '--no-such-option'" in err
    assert out == ""


@pytest.mark.parametrize("command", WITH_CONFIG)
def test_a_bad_config_file_exits_2(
    command: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*command.split(), *BEFORE_CONFIG[command](world), "--config", str(world.bad_config)]
    code, _, err = run(args, capsys)
    assert code == 2, err
    assert one_error_line(err) == f"error: {world.bad_config}:1: nonsense: unknown key"


@pytest.mark.parametrize("command", WITH_CONFIG)
def test_a_missing_config_file_exits_2(
    command: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = world.tmp / "missing.yml"
    args = [*command.split(), *BEFORE_CONFIG[command](world), "--config", str(missing)]
    code, _, err = run(args, capsys)
    assert code == 2, err
    assert one_error_line(err) == f"error: {missing}: config file not found"


@pytest.mark.parametrize("command", sorted(_present(AT_RUN_TIME)))
def test_a_runtime_failure_exits_1(
    command: str,
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failure = AT_RUN_TIME[command]
    if failure.setup is not None:
        failure.setup(world, monkeypatch)
    code, _, err = run([*command.split(), *failure.args(world)], capsys)
    assert code == 1, err
    assert one_error_line(err).startswith("error: ")


@pytest.mark.parametrize(
    ("table", "command"),
    [("escaping", c) for c in sorted(_present(ESCAPING))]
    + [("special", c) for c in sorted(_present(SPECIAL))],
)
def test_a_path_out_of_the_checkout_or_to_a_special_file_exits_2_writing_nothing(
    table: str,
    command: str,
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = (ESCAPING if table == "escaping" else SPECIAL)[command]
    if case.setup is not None:
        case.setup(world, monkeypatch)
    before = snapshot(world.tmp)
    dev_null = Path("/dev/null").lstat()
    code, _, err = run([*command.split(), *case.args(world)], capsys)
    assert code == 2, err
    line = one_error_line(err)
    assert line.startswith("error: ")
    assert case.says in line
    assert snapshot(world.tmp) == before
    now = Path("/dev/null").lstat()
    assert (stat.S_ISCHR(now.st_mode), now.st_ino) == (True, dev_null.st_ino)


# ---- the rest of the contract ----


@pytest.mark.parametrize(
    "argv",
    [
        ["release", "notes", "--from-git", "--dry-run"],
        ["version", "next", "--dry-run"],
        ["changelog", "--dry-run"],
    ],
    ids=" ".join,
)
def test_a_dry_run_that_gates_nothing_is_a_usage_error(
    argv: list[str], world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*argv, "--path", str(world.repo)], capsys)
    assert code == 2, err
    assert out == ""
    line = one_error_line(err)
    assert line.startswith("error: --dry-run ")
    assert " go with --" in line or " goes with --" in line


def test_every_command_that_reports_has_json() -> None:
    lacking = {n for n, c in LEAVES.items() if not any(p.name == "as_json" for p in c.params)}
    assert lacking == {"config schema"}  # its output is JSON


def test_repo_is_always_owner_name_and_path_always_a_directory() -> None:
    for name, cmd in LEAVES.items():
        for param in cmd.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            if "--repo" in param.opts:
                assert param.metavar == "OWNER/NAME", name
                assert not isinstance(param.type, click.Path), name
            if "--path" in param.opts:
                assert isinstance(param.type, click.Path), name
                assert not param.type.file_okay, name
            assert "--root" not in param.opts, name


@pytest.mark.parametrize(
    ("argv", "old"),
    [
        (["version", "current", "--repo", "{repo}"], "--repo DIR"),
        (["changelog", "--unreleased", "--repo", "{repo}"], "--repo DIR"),
        (["release", "status", "--root", "{repo}"], "--root DIR"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_a_deprecated_spelling_still_works_and_warns_once(
    argv: list[str], old: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.format(repo=world.repo) for a in argv]
    code, out, err = run(args, capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: {old} is deprecated (removed in 0.3); use --path DIR"]
    new = [("--path" if a in {"--repo", "--root"} else a) for a in args]
    assert run(new, capsys)[1] == out  # the same result under the new spelling


def test_release_status_takes_version_as_an_option(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--path", str(world.tmp)]
    code, _, err = run(["release", "status", "--version", "9.9.9", *where], capsys)
    assert code == 2
    assert one_error_line(err).startswith("error: no release 9.9.9 recorded")
    code, _, err = run(["release", "status", "9.9.9", *where], capsys)
    assert code == 2
    assert "warning: `release status VERSION` is deprecated" in err


def test_an_old_and_a_new_spelling_together_are_a_usage_error(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["version", "current", "--repo", str(world.repo), "--path", str(world.repo)], capsys
    )
    assert code == 2
    assert "--repo is the old spelling of --path: give only --path" in err


def test_a_missing_extra_is_one_line_naming_it(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def without_twine(name: str, package: str | None = None):  # type: ignore[no-untyped-def]
        return None if name == "twine" else real(name, package)

    monkeypatch.setattr("steward.cli.main.importlib.util.find_spec", without_twine)
    code, out, err = run(["release", "run", "--version", "1.0.0"], capsys)
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [
        "error: steward release run needs the 'release' extra (twine missing): "
        "pip install 'repo-steward[release]'"
    ]


# ---- what a repository says, checked before anything is done (#16) ----

DUPLICATE = "version:\n  minor_types: [feat, feat]\n"


@pytest.mark.parametrize("command", WITH_CONFIG)
def test_a_config_list_naming_an_item_twice_exits_2(
    command: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    config = world.tmp / "twice.yml"
    config.write_text(DUPLICATE, encoding="utf-8")
    args = [*command.split(), *BEFORE_CONFIG[command](world), "--config", str(config)]
    code, _, err = run(args, capsys)
    assert code == 2, err
    assert one_error_line(err) == (
        f"error: {config}:2: version.minor_types: Value error, 'feat' is listed twice"
    )


def _invalid_pyproject(w: World) -> None:
    (w.repo / "pyproject.toml").write_text('[project\nversion = "1.0.0"\n', encoding="utf-8")


def _tag_elsewhere(w: World) -> None:
    """An origin whose v1.0.0 tags a commit that is not the release commit."""
    remote = w.tmp / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git = ["git", "-C", str(w.repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "remote", "add", "origin", str(remote)], check=True)
    other = subprocess.run(
        [*git, "commit-tree", "HEAD^{tree}", "-m", "elsewhere"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run([*git, "push", "-q", "origin", f"{other}:refs/tags/v1.0.0"], check=True)


@dataclass(frozen=True)
class Refusal:
    args: Args
    setup: Callable[[World], None]
    says: str


REFUSED = {
    "version current: invalid pyproject.toml": Refusal(
        lambda w: ["version", "current", "--path", str(w.repo)],
        _invalid_pyproject,
        "pyproject.toml: invalid TOML",
    ),
    "version next: invalid pyproject.toml": Refusal(
        lambda w: ["version", "next", "--path", str(w.repo)],
        _invalid_pyproject,
        "pyproject.toml: invalid TOML",
    ),
    "release notes: invalid pyproject.toml": Refusal(
        lambda w: ["release", "notes", "--from-git", "--path", str(w.repo)],
        _invalid_pyproject,
        "pyproject.toml: invalid TOML",
    ),
    "release run: a tag on another commit": Refusal(
        lambda w: ["release", "run", "--version", "1.0.0", "--path", str(w.repo)],
        _tag_elsewhere,
        "tag v1.0.0 already exists (origin) on commit",
    ),
    "release run: a local version for the index": Refusal(
        lambda w: ["release", "run", "--version", "1.0.0+local", "--path", str(w.repo)],
        _tag_elsewhere,
        "publish: 1.0.0+local has a local version label (+local), which PyPI refuses",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_the_repository_says_wrong_exits_2_before_anything_is_done(
    case: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    refusal = REFUSED[case]
    refusal.setup(world)
    args = refusal.args(world)
    if " ".join(args[:2]) in NEEDS_EXTRA:
        pytest.skip(f"steward {' '.join(args[:2])} needs an extra not installed here")
    code, out, err = run(args, capsys)
    assert code == 2, err
    assert out == ""
    line = one_error_line(err)
    assert line.startswith("error: ")
    assert refusal.says in line
    assert not (world.repo / ".steward").exists()
