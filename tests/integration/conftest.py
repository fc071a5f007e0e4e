"""Integration fixtures: a local GitHub (`gh`) and the real `steward` CLI pointed at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from steward.cli.main import main
from tests.support.github_server import GitHubServer

TOKEN = "test-token"


@pytest.fixture
def gh() -> Iterator[GitHubServer]:
    """A started test server; the test fails if any request or response broke the spec."""
    with GitHubServer(token=TOKEN) as server:
        yield server
        server.assert_clean()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


Steward = Callable[..., Run]


@pytest.fixture
def steward(
    gh: GitHubServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Steward:
    """``steward("handle", "--event-name", ...)`` runs the real CLI entry point in-process,
    with the Actions environment pointing at ``gh`` and no config file (playbook defaults)."""
    # GITHUB_ACTIONS and STEWARD_LOGIN decide whose comment markers count: a run inside
    # Actions must not make the test server's comments look like someone else's.
    for var in (
        "GITHUB_EVENT_NAME",
        "GITHUB_EVENT_PATH",
        "GITHUB_REPOSITORY",
        "GH_TOKEN",
        "GITHUB_ACTIONS",
        "STEWARD_LOGIN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        else:  # pragma: no cover - main always exits
            code = 0
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def handle(steward: Steward, tmp_path: Path) -> Callable[[str, dict[str, Any]], Run]:
    """Run `steward handle` (not a dry run) for one webhook payload."""
    counter = iter(range(10_000))

    def run(event: str, payload: dict[str, Any], *extra: str) -> Run:
        path = tmp_path / f"event-{next(counter)}.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        return steward("handle", "--event-name", event, "--payload", str(path), *extra)

    return run
