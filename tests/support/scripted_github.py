"""A local GitHub whose answers a test scripts, still held to GitHub's OpenAPI description.

For property tests that feed steward random schema-valid responses: each operation steward
sends answers the body the test put in `script` (with the operation's documented success
status), in one page. It is a `GitHubServer` in everything else: real HTTP on 127.0.0.1,
the token checked, and every request and every answer validated against the description,
so a scripted body GitHub could not send is a recorded violation, not a test of steward.
"""

from __future__ import annotations

from typing import Any

from tests.support.github_material import REPO
from tests.support.github_server import GitHubServer, route

Op = tuple[str, str]  # (method, path template)

# Every operation steward's GitHub adapter sends, by the description's path templates.
OPERATIONS: tuple[Op, ...] = (
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("GET", "/repos/{owner}/{repo}/issues"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("GET", "/repos/{owner}/{repo}/labels"),
    ("GET", "/user"),
    ("GET", "/repos/{owner}/{repo}/releases"),
    ("POST", "/repos/{owner}/{repo}/releases"),
    ("PATCH", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("GET", "/search/issues"),
    ("GET", "/repos/{owner}/{repo}/pulls"),
    ("POST", "/repos/{owner}/{repo}/pulls"),
)


class ScriptedGitHub(GitHubServer):
    def __init__(self, repo: str = REPO, token: str = "test-token") -> None:
        self.script: dict[Op, Any] = {}
        super().__init__(repo, token)

    def _build_routes(self) -> list[Any]:
        return [route(m, t, self._answer(m, t)) for m, t in OPERATIONS]

    def _answer(self, method: str, template: str) -> GitHubServer.Handler:
        from tests.support.openapi_strategies import response_schema

        status, _ = response_schema(method, template)

        def handler(p: dict[str, str], q: dict[str, str], body: Any) -> Any:
            return status, self.script[(method, template)], {}

        return handler
