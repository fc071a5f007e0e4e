"""The GitHub App manifest (`server.manifest`) and `steward serve manifest`: the manifest held
to GitHub's published permission and event names and to the events the server acts on; the
page that posts it to GitHub; and the code traded for the App's credentials against the local
GitHub App, whose files then start `steward serve`."""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import signal
import stat
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from steward.errors import UsageError
from steward.server.intake import handled_events
from steward.server.manifest import (
    PERMISSIONS,
    app_manifest,
    new_app_url,
    registration_page,
    subscribed_events,
)
from steward.server.settings import load_settings
from tests.server.conftest import signed_headers, with_installation
from tests.server.processes import Server
from tests.support import openapi
from tests.support.cli import run_cli
from tests.support.github_app_server import INSTALLATION_ID, GitHubAppServer
from tests.support.github_material import ROOT, event_names, pull_request_event

HOSTILE = "x\"'><script>alert(1)</script>&amp;"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
# Delivered to every App without a subscription (GitHub: "You cannot manually subscribe").
UNSUBSCRIBED = {"installation", "installation_repositories"}


pytestmark = pytest.mark.usefixtures("no_steward_env")


@pytest.fixture
def gh() -> Iterator[GitHubAppServer]:
    with GitHubAppServer() as server:
        yield server
        server.assert_clean()


# -- the manifest ------------------------------------------------------------------------------


def test_the_manifest_for_a_server() -> None:
    m = app_manifest("https://steward.example.com/", redirect_url="https://steward.example.com")
    assert m == {
        "name": "steward",
        "url": "https://steward.example.com",
        "hook_attributes": {"url": "https://steward.example.com/webhook", "active": True},
        "redirect_url": "https://steward.example.com",
        "public": False,
        "default_permissions": {
            "issues": "write",
            "pull_requests": "write",
            "statuses": "write",
            "contents": "read",
            "merge_queues": "read",
            "metadata": "read",
        },
        "default_events": ["issues", "merge_group", "pull_request", "push", "release"],
        "description": (
            "Repository automation: pull request labels and title checks, issue triage, "
            "release announcements and sweeps (repo-steward)."
        ),
    }
    assert "redirect_url" not in app_manifest("https://h.example", name="n", public=True)
    assert app_manifest("https://h.example", public=True)["public"] is True
    for bad in ("h.example", "ftp://h.example", "https://h.example/?a=1", "https:///x"):
        with pytest.raises(UsageError, match="--url"):
            app_manifest(bad)
    with pytest.raises(UsageError, match="34"):
        app_manifest("https://h.example", name="n" * 35)


def test_every_permission_is_one_github_publishes() -> None:
    schema = openapi.load_spec()["components"]["schemas"]["app-permissions"]["properties"]
    for key, value in PERMISSIONS.items():
        assert key in schema, f"{key} is not a GitHub App permission"
        assert value in schema[key]["enum"], f"{key}: {value} is not one of its levels"
    assert not {"members", "administration", "organization_administration"} & set(PERMISSIONS)


def test_the_events_are_githubs_and_the_ones_the_server_acts_on() -> None:
    published = set(event_names())
    events = subscribed_events()
    assert len(set(events)) == len(events)
    assert set(events) <= published
    assert published >= UNSUBSCRIBED
    # the intake queues these; `pull_request_target` is an Actions trigger, never an App's
    acted_on = handled_events() - UNSUBSCRIBED - {"pull_request_target"}
    assert set(events) == acted_on


def test_the_manifest_fits_probots_manifest_type() -> None:
    """probot's `Manifest` type (npm `probot`, installed for the benchmark): its field names
    and their shapes. (Its permission names are not GitHub's, e.g. ``pull-requests``, so the
    permissions are held to GitHub's OpenAPI description above instead.)"""
    types = ROOT / "node_modules" / "probot" / "lib" / "types.d.ts"
    if not types.exists():
        pytest.skip("npm probot is not installed")
    block = re.search(r"export type Manifest = \{\n(.*?)\n\};", types.read_text(), re.DOTALL)
    assert block is not None
    fields = dict(re.findall(r"^    (\w+)(\??):", block.group(1), re.MULTILINE))
    hook = re.search(r"hook_attributes\?: \{(.*?)\}", block.group(1), re.DOTALL)
    assert hook is not None
    m = app_manifest("https://h.example", redirect_url="https://h.example")
    assert set(m) <= set(fields)
    assert {k for k, optional in fields.items() if not optional} <= set(m)  # url
    assert set(m["hook_attributes"]) <= set(re.findall(r"(\w+)\??:", hook.group(1)))
    for key in ("name", "url", "redirect_url", "description"):
        assert re.search(rf"^    {key}\?*: string;", block.group(1), re.MULTILINE)
        assert isinstance(m[key], str)
    assert re.search(r"^    public\?: boolean;", block.group(1), re.MULTILINE)
    assert isinstance(m["public"], bool)


# -- the page that posts it --------------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "inputs": {}})
        if tag == "input" and self.forms:
            self.forms[-1]["inputs"][a.get("name")] = (a.get("type"), a.get("value"))


def parse(page: str) -> _Forms:
    parser = _Forms()
    parser.feed(page)
    parser.close()
    return parser


def test_the_page_posts_the_manifest_to_github_escaped() -> None:
    m = app_manifest('https://h.example/a"b', name=HOSTILE)
    page = registration_page(m, new_app_url("octo-org"))
    parsed = parse(page)
    assert parsed.scripts == 0  # the hostile name opened no tag
    assert "<script>" not in page
    [form] = parsed.forms
    assert form["action"] == "https://github.com/organizations/octo-org/settings/apps/new"
    assert form["method"] == "post"
    kind, value = form["inputs"]["manifest"]
    assert kind == "hidden"
    assert json.loads(value) == m
    assert new_app_url() == "https://github.com/settings/apps/new"
    assert new_app_url("a/b", "https://ghe.example/") == (
        "https://ghe.example/organizations/a%2Fb/settings/apps/new"
    )


def test_serve_manifest_prints_the_manifest_or_writes_the_page(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(["serve", "manifest", "--url", "https://h.example"], capsys)
    assert code == 0, err
    printed = json.loads(out)
    assert printed == app_manifest("https://h.example", redirect_url="https://h.example")
    page = tmp_path / "app.html"
    args = ["serve", "manifest", "--url", "https://h.example", "--name", HOSTILE]
    code, out, err = run_cli([*args, "--org", "octo-org", "--output", str(page)], capsys)
    assert code == 0, err
    assert out.startswith(f"wrote {page}: open it in a browser")
    [form] = parse(page.read_text()).forms
    assert form["action"] == "https://github.com/organizations/octo-org/settings/apps/new"
    assert json.loads(form["inputs"]["manifest"][1])["name"] == HOSTILE
    code, out, _ = run_cli([*args, "--output", str(page), "--json"], capsys)
    assert code == 0
    assert json.loads(out)["action"] == "https://github.com/settings/apps/new"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --url URL (step 1) or --convert CODE"),
        (["--url", "https://h.example", "--dir", "d"], "--dir goes with --convert"),
        (["--convert", "abc", "--url", "https://h.example"], "takes no --url"),
        (["--convert", "abc"], "--convert needs --dir DIR"),
        (["--convert", "a b", "--dir", "d"], "the code from GitHub's redirect"),
        (["--url", "h.example"], "--url must be an absolute URL"),
        (["--url", "https://h.example", "--name", ""], "--name must be 1 to 34"),
    ],
)
def test_usage_errors_are_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["serve", "manifest", *args], capsys)
    assert code == 2
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("error: ")
    assert message in line


def test_help_explains_both_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["serve", "manifest", "--help"], capsys)
    assert code == 0
    assert "--convert CODE --dir DIR" in out
    assert "--url https://HOST --output app.html" in out
    code, out, _ = run_cli(["serve", "--help"], capsys)
    assert "  manifest " in out


# -- the code traded for the App's credentials --------------------------------------------------


def exports(out: str) -> dict[str, str]:
    env = {}
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        [env[key]] = shlex.split(value)
    return env


def convert(gh: GitHubAppServer, code: str, where: Path, *extra: str) -> list[str]:
    return [
        "serve",
        "manifest",
        "--convert",
        code,
        "--api-url",
        gh.url,
        "--dir",
        str(where),
        *extra,
    ]


def test_convert_writes_the_credentials_and_prints_no_secret(
    gh: GitHubAppServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = gh.add_manifest_code(app_manifest("https://h.example"))
    where = tmp_path / "app"
    status, out, err = run_cli(convert(gh, code, where), capsys)
    assert status == 0, err
    [app] = gh.conversions
    secret = app["webhook_secret"]
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    files = {p.name: (p.read_text(), stat.S_IMODE(p.stat().st_mode)) for p in where.iterdir()}
    assert files == {
        "app-id": (f"{gh.app_id}\n", 0o644),
        "app-slug": (f"{gh.slug}\n", 0o644),
        "webhook-secret": (secret, 0o600),
        "private-key.pem": (gh.private_key_pem, 0o600),
    }
    assert exports(out) == {
        "STEWARD_APP_ID": str(gh.app_id),
        "STEWARD_APP_SLUG": gh.slug,
        "STEWARD_PRIVATE_KEY_FILE": str(where / "private-key.pem"),
        "STEWARD_WEBHOOK_SECRET_FILE": str(where / "webhook-secret"),
    }
    for text in (out, err):
        assert secret not in text
        assert app["client_secret"] not in text
        assert "PRIVATE KEY" not in text
    assert f"https://github.com/apps/{gh.slug}/installations/new" in err
    assert code not in gh.manifest_codes  # spent, once
    assert not [p for p in where.iterdir() if p.name.startswith(".")]  # no probe, no temp file
    [call] = [c for c in gh.all_calls if c.path.startswith("/app-manifests/")]
    assert (call.method, call.status) == ("POST", 201)


def test_a_code_works_once_and_nothing_is_overwritten(
    gh: GitHubAppServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = gh.add_manifest_code()
    status, out, err = run_cli(convert(gh, code, tmp_path / "a", "--json"), capsys)
    assert status == 0, err
    report = json.loads(out)
    assert (report["app_id"], report["slug"]) == (gh.app_id, gh.slug)
    assert gh.conversions[0]["webhook_secret"] not in out
    # the same code again: GitHub's 404, said plainly, and nothing written
    status, out, err = run_cli(convert(gh, code, tmp_path / "b"), capsys)
    assert status == 1
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("error: GitHub does not know this code: a code works once")
    assert not (tmp_path / "b").exists()
    # a directory that holds an App already: refused before the new code is spent
    fresh = gh.add_manifest_code()
    before = (tmp_path / "a" / "private-key.pem").read_text()
    status, out, err = run_cli(convert(gh, fresh, tmp_path / "a"), capsys)
    assert status == 2
    [line] = err.strip().splitlines()
    assert line.startswith("error: refusing to overwrite ")
    assert "choose another --dir" in line
    assert fresh in gh.manifest_codes
    assert (tmp_path / "a" / "private-key.pem").read_text() == before
    status, _, err = run_cli(convert(gh, fresh, tmp_path / "missing" / "a"), capsys)
    assert status == 2
    assert "does not exist" in err
    assert fresh in gh.manifest_codes


@pytest.mark.parametrize("where", ["dangling symlink", "/proc/self"])
def test_a_directory_that_cannot_be_written_is_refused_before_the_code_is_spent(
    where: str, gh: GitHubAppServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Both fail for root too: mkdir over a symlink to nothing (EEXIST), and a directory
    where no file can be created (procfs)."""
    if where == "dangling symlink":
        target = tmp_path / "app"
        target.symlink_to(tmp_path / "nowhere")
    else:
        target = Path(where)
        if not target.is_dir():
            pytest.skip("no procfs")
    code = gh.add_manifest_code()
    status, out, err = run_cli(convert(gh, code, target), capsys)
    assert status == 2
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith(f"error: {target}")
    assert code in gh.manifest_codes  # unused: it can be tried again with another --dir
    assert gh.conversions == []
    assert not (tmp_path / "nowhere").exists()


def test_a_directory_whose_mode_cannot_be_set_is_not_left_behind(
    gh: GitHubAppServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found in review: a chmod failing right after the mkdir left the new directory."""
    target = tmp_path / "app"
    real = os.chmod

    def refuse(path: Any, mode: int, *args: Any, **kw: Any) -> None:
        if Path(path) == target:
            raise PermissionError(1, "Operation not permitted")
        real(path, mode, *args, **kw)

    monkeypatch.setattr(os, "chmod", refuse)
    code = gh.add_manifest_code()
    status, _, err = run_cli(convert(gh, code, target), capsys)
    assert status == 2
    assert err.strip() == f"error: {target}: cannot set its mode: Operation not permitted"
    assert not target.exists()
    assert code in gh.manifest_codes


def test_credentials_lost_after_the_code_is_spent_are_said_plainly(
    gh: GitHubAppServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The directory checked, then gone (replaced by a file) while GitHub answered."""
    from steward.github.client import GitHubClient

    where = tmp_path / "app"
    post = GitHubClient.post

    def post_then_break_the_directory(self: GitHubClient, *args: Any, **kwargs: Any) -> Any:
        answer = post(self, *args, **kwargs)
        where.rmdir()
        where.write_text("")
        return answer

    monkeypatch.setattr(GitHubClient, "post", post_then_break_the_directory)
    code = gh.add_manifest_code()
    status, out, err = run_cli(convert(gh, code, where), capsys)
    assert status == 1
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith(f"error: {where}: cannot write files: ")
    assert f"GitHub created the App {gh.slug} (id {gh.app_id})" in line
    assert "the code is spent" in line
    assert "saved: none" in line
    assert "generate a new private key" in line
    [app] = gh.conversions
    for secret in (app["webhook_secret"], app["client_secret"], "PRIVATE KEY"):
        assert secret not in err


def test_a_file_made_while_writing_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process creates the file between the check and the write: refused, and its
    content kept; the file steward writes appears whole, with its mode."""
    import tempfile

    from steward.server.credentials import write_new as _write_new

    target = tmp_path / "private-key.pem"
    mkstemp = tempfile.mkstemp

    def mkstemp_while_another_writes(*args: Any, **kwargs: Any) -> tuple[int, str]:
        target.write_text("theirs")
        return mkstemp(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", mkstemp_while_another_writes)
        with pytest.raises(UsageError, match=f"refusing to overwrite {re.escape(str(target))}"):
            _write_new(target, "mine\n", secret=True)
    assert target.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="refusing to overwrite"):
        _write_new(dangling, "mine\n", secret=True)
    assert not (tmp_path / "elsewhere").exists()
    for name, secret, mode in (("a", True, 0o600), ("b", False, 0o644)):
        assert _write_new(tmp_path / name, "x\n", secret=secret) == tmp_path / name
        assert (tmp_path / name).read_bytes() == b"x\n"
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "link", target.name]
    # a filesystem without hard links: the file made exclusively instead, the same refusal
    with monkeypatch.context() as patch:
        patch.setattr(os, "link", no_link)
        assert _write_new(tmp_path / "c", "x\n", secret=True) == tmp_path / "c"
        with pytest.raises(UsageError, match="refusing to overwrite"):
            _write_new(target, "mine\n", secret=True)
        with pytest.raises(UsageError, match="refusing to overwrite"):
            _write_new(dangling, "mine\n", secret=True)
    assert (tmp_path / "c").read_bytes() == b"x\n"
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o600
    assert target.read_text() == "theirs"
    assert not (tmp_path / "elsewhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c", "link", target.name]


def no_link(src: str, dst: str, **kwargs: Any) -> None:
    raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))


@pytest.mark.slow
def test_steward_serve_runs_on_the_written_files(
    gh: GitHubAppServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = gh.add_manifest_code(app_manifest("https://h.example"))
    status, out, err = run_cli(convert(gh, code, tmp_path / "app"), capsys)
    assert status == 0, err
    env = exports(out)
    settings = load_settings(env=env)
    settings.require_app()
    assert settings.webhook_secret is not None
    assert settings.private_key is not None
    secret = settings.webhook_secret.get_secret_value()
    assert secret == gh.conversions[0]["webhook_secret"]
    assert settings.private_key.get_secret_value() == gh.private_key_pem
    assert (settings.app_id, settings.bot) == (gh.app_id, f"{gh.slug}[bot]")

    gh.add_pr(2, "feat(logger): add a sampling rate", files=[("README.md", 3, 1)])
    env |= {
        "STEWARD_API_URL": gh.url,
        "STEWARD_DATABASE_URL": f"sqlite:///{tmp_path}/inbox.db",
        "STEWARD_POLL_INTERVAL": "0.05",
        "STEWARD_SURVEY_INTERVAL_SECONDS": "0",  # no releases served here
    }
    server = Server(env, tmp_path / "server.log", "--workers", "1")
    try:
        payload = with_installation(pull_request_event("opened", head_sha=SHA), INSTALLATION_ID)
        body = json.dumps(payload).encode()
        url = f"{server.url}/webhook"
        wrong = signed_headers("pull_request", "d-0", body, secret="not the secret")
        assert httpx.post(url, content=body, headers=wrong).status_code == 401
        headers = signed_headers("pull_request", "d-1", body, secret=secret)
        assert httpx.post(url, content=body, headers=headers).status_code == 202
        deadline = time.monotonic() + 60
        done = 'steward_jobs_processed_total{kind="event"} 1.0'
        while done not in httpx.get(server.metrics_url).text:
            assert time.monotonic() < deadline, server.tail()
            time.sleep(0.1)
    finally:
        assert server.stop() in {0, -signal.SIGTERM}
    assert "feature" in gh.labels_of(2)  # the installation token came from the written key
    log = (tmp_path / "server.log").read_text()
    assert secret not in log
    assert "PRIVATE KEY" not in log
