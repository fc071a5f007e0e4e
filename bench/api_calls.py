"""API calls per event: steward (measured) beside the playbook's one-workflow-per-rule setup.

Steward runs for real (`steward handle`, not a dry run) against the local GitHub test server,
which counts every request; reads (GET) and writes are shown apart, for a first run and for
an identical rerun (which must write nothing; its reads include the one `GET /user` that
tells steward's own marker comments from anyone else's, outside Actions). The playbook's
automation is one workflow per rule, each on its own token and with no shared state; its
counts are derived below from what each rule must do, per workflow, for the same event
(REST calls only: a workflow's own job status costs no API call).

Three rows measure what section 4 of the behaviour issue added: the first-issue search for a
``NONE`` author (the playbook's peer is actions/first-interaction, which lists the author's
issues), a merge group (the peer is the workflow `steward init` used to write, which posted
both statuses blindly), and the release pipeline's post-release stage, which now takes the
same path as `steward handle` (before: 42 reads and 61 writes for this seed, and the issue
closed at merge was never told).

Run: `python -m bench api_calls` (needs `make setup`: the npm material for the server).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.pipeline.github_releases import ReleaseGitHub
from tests.support.github_material import REPO, issue_event, pull_request_event, release_event
from tests.support.github_server import GitHubServer
from tests.support.merge_queue import merge_group_payload

from steward.cli.main import main as steward_main

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
PAGES_250 = 3  # 250 changed files at GitHub's maximum of 100 per page


@dataclass(frozen=True)
class Peer:
    """The playbook's workflows for one event: (workflow, reads, writes, why)."""

    rows: tuple[tuple[str, int, int, str], ...]

    @property
    def reads(self) -> int:
        return sum(r for _, r, _, _ in self.rows)

    @property
    def writes(self) -> int:
        return sum(w for _, _, w, _ in self.rows)


PEERS: dict[str, Peer] = {
    "PR opened, 250 files": Peer(
        (
            ("size label", PAGES_250, 1, "lists the files (3 pages), adds size/XXL"),
            ("area labels", PAGES_250, 1, "lists the files again (labeler), adds the area labels"),
            ("title label", 0, 1, "title from the payload, adds the change-type label"),
            ("semantic title check", 0, 0, "fails or passes its own job"),
            ("related issue check", 0, 0, "body from the payload; issue named: nothing to do"),
            ("acknowledgement check", 0, 0, "body from the payload; section present: nothing"),
            ("large PR comment", 0, 1, "size/XXL was applied: one comment"),
            ("do-not-merge gate", 0, 0, "labels from the payload; its job passes"),
        )
    ),
    "PR title edited": Peer(
        (
            ("title label", 0, 2, "adds the new change-type label, removes the stale one"),
            ("semantic title check", 0, 0, "fails or passes its own job"),
            ("related issue check", 0, 0, "body unchanged"),
            ("acknowledgement check", 0, 0, "body unchanged"),
            ("do-not-merge gate", 0, 0, "its job passes"),
        )
    ),
    "PR merged": Peer((("pending-release label", 0, 1, "issue number from the body; labels it"),)),
    "release, 20 pending": Peer(
        (
            (
                "post-release",
                1,
                60,
                "lists pending-release issues (1 page); per issue: comment, "
                "remove the label, close",
            ),
        )
    ),
    "issue opened, newcomer": Peer(
        (
            ("triage label", 0, 0, "the issue template applies it"),
            ("first interaction", 1, 1, "lists the author's issues (1 page), welcomes them"),
        )
    ),
    "merge group": Peer(
        (("blind statuses", 0, 2, "the old generated job: both statuses success, unread"),)
    ),
    "release stage, 21 pending": Peer(
        (
            ("publish the draft", 1, 1, "lists releases, publishes the draft"),
            (
                "post-release",
                1,
                60,
                "lists open pending-release issues; per issue: comment, remove the label, "
                "close (the one closed at merge is never told)",
            ),
        )
    ),
}


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _handle(gh: GitHubServer, tmp: Path, event: str, payload: dict[str, Any]) -> None:
    path = tmp / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    out = io.StringIO()
    with _env(GITHUB_API_URL=gh.url, GITHUB_TOKEN=gh.token), contextlib.redirect_stdout(out):
        try:
            steward_main(["handle", "--event-name", event, "--payload", str(path)])
        except SystemExit as exc:
            if exc.code:
                raise RuntimeError(
                    f"steward handle failed ({exc.code}): {out.getvalue()}"
                ) from None
    gh.assert_clean()


def pr_opened(gh: GitHubServer) -> tuple[str, dict[str, Any]]:
    files = [(f"src/pkg/module_{i}.py", 3, 1) for i in range(250)]  # 1000 lines: size/XXL
    gh.add_pr(2, "feat(logger): add a sampling rate", files=files)
    return "pull_request", pull_request_event("opened", head_sha=SHA)


def title_edit(gh: GitHubServer) -> tuple[str, dict[str, Any]]:
    labels = ("size/XXL", "feature")
    files = [(f"src/pkg/module_{i}.py", 3, 1) for i in range(250)]
    gh.add_pr(2, "fix(logger): keep the sampling rate", labels=labels, files=files)
    gh.add_status(SHA, "success", "steward/semantic-title", "feat: semantic title")
    gh.add_status(SHA, "success", "steward/do-not-merge", "no blocking label")
    return "pull_request", pull_request_event(
        "edited",
        title="fix(logger): keep the sampling rate",
        title_from="feat(logger): keep the sampling rate",
        labels=labels,
        head_sha=SHA,
    )


def merge(gh: GitHubServer) -> tuple[str, dict[str, Any]]:
    gh.add_issue(1, "Logger drops the sampling rate", labels=("bug",))
    gh.add_pr(2, "fix(logger): keep it", state="closed")
    return "pull_request", pull_request_event("closed", merged=True, body="Fixes #1")


def release(gh: GitHubServer) -> tuple[str, dict[str, Any]]:
    for n in range(10, 30):
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))
    return "release", release_event("published", tag="v3.2.0")


def newcomer(gh: GitHubServer) -> tuple[str, dict[str, Any]]:
    # opened from the bug template, which applies `triage` (as the playbook's templates do)
    gh.add_issue(1, "Logger drops the sampling rate", author="newcomer", labels=("triage",))
    return "issues", issue_event(
        "opened", author="newcomer", association="NONE", labels=("triage",)
    )


def merge_group(gh: GitHubServer) -> tuple[str, dict[str, Any]]:
    gh.add_pr(2, "feat(logger): add a sampling rate", labels=("feature",))
    return "merge_group", merge_group_payload(2)


def release_stage(gh: GitHubServer) -> tuple[str, dict[str, Any]]:
    """Seeds a release's GitHub; the stage itself is run by `_stage` (no event)."""
    assert isinstance(gh, ReleaseGitHub)
    for n in range(10, 30):
        gh.add_issue(n, f"issue {n}", labels=("pending-release", "bug"))
    gh.add_issue(31, "closed at merge by Fixes #31", labels=("pending-release",), state="closed")
    gh.add_draft("v3.2.0")
    return "", {}


SCENARIOS: dict[str, Callable[[GitHubServer], tuple[str, dict[str, Any]]]] = {
    "PR opened, 250 files": pr_opened,
    "PR title edited": title_edit,
    "PR merged": merge,
    "release, 20 pending": release,
    "issue opened, newcomer": newcomer,
    "merge group": merge_group,
    "release stage, 21 pending": release_stage,
}
STAGES = {"release stage, 21 pending"}


def _stage(gh: GitHubServer, tmp: Path) -> None:
    """The release pipeline's post-release stage, on its own (publish, then the issues)."""
    from steward.config.loader import parse_config
    from steward.github.client import GitHubClient
    from steward.pipeline.context import Context
    from steward.pipeline.stages.post_release import PostReleaseStage
    from steward.pipeline.state import ReleaseState, StageRecord

    ctx = Context(
        root=tmp,
        version="3.2.0",
        prerelease=False,
        config=parse_config(f"release:\n  repository: {REPO}\n"),
        state=ReleaseState("3.2.0"),
        dir=tmp,
        env={},
        echo=lambda _msg: None,
        github=lambda: GitHubClient(gh.token, gh.url, max_retries=0),
    )
    PostReleaseStage().run(ctx, StageRecord("post-release"))
    gh.assert_clean()


def measure(name: str) -> tuple[int, int, int, int]:
    """Steward's (reads, writes) for the scenario, and (reads, writes) of an identical rerun."""
    server = ReleaseGitHub(REPO) if name in STAGES else GitHubServer()
    with tempfile.TemporaryDirectory() as tmp, server as gh:
        cwd = os.getcwd()
        os.chdir(tmp)  # no config file: the playbook's defaults
        try:
            event, payload = SCENARIOS[name](gh)

            def run() -> None:
                if name in STAGES:
                    _stage(gh, Path(tmp))
                else:
                    _handle(gh, Path(tmp), event, payload)

            run()
            reads, writes = len(gh.reads()), len(gh.writes())
            gh.reset_calls()
            run()
            return reads, writes, len(gh.reads()), len(gh.writes())
        finally:
            os.chdir(cwd)


def main() -> None:
    head = f"{'event':<26} {'steward R/W':>12} {'rerun R/W':>10} {'playbook R/W':>13} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    os.environ.pop("GITHUB_ACTIONS", None)  # identity from the token: the costlier case
    for name in SCENARIOS:
        reads, writes, rerun_reads, rerun_writes = measure(name)
        peer = PEERS[name]
        ours, theirs = reads + writes, peer.reads + peer.writes
        print(
            f"{name:<26} {f'{reads}/{writes}':>12} {f'{rerun_reads}/{rerun_writes}':>10} "
            f"{f'{peer.reads}/{peer.writes}':>13} {ours / theirs:>5.2f}x"
        )
    print("\nratio = steward calls / playbook workflow calls (lower is better for steward).")
    print("playbook counts, per workflow (reads, writes):")
    for name, peer in PEERS.items():
        print(f"  {name}:")
        for wf, r, w, why in peer.rows:
            print(f"    {wf:<22} {r}R {w}W  {why}")
    print(
        "\nsection 4 rows: the newcomer pays one search read for a welcome that reaches them;"
        "\nthe merge group reads the queued PR and the group's statuses instead of passing it"
        "\nblindly; the release stage read 42/61 before (21 issue reads, 20 comment listings,"
        "\nthe closed issue untold) and now takes `steward handle`'s path."
        "\nrelease rows: an issue is closed and its pending-release label taken off in one"
        "\nPATCH (`state` and `labels`) beside its comment: 40 writes for 20 issues (was 60)."
    )


if __name__ == "__main__":
    main()
