"""The local GitHub test server, extended with the release and pull-request operations the
pipeline's tag and post-release stages send; bodies come from GitHub's own OpenAPI examples
and are validated against the description like every other route of the server."""

from __future__ import annotations

from typing import Any

from tests.support import openapi
from tests.support.github_server import GitHubServer, HttpReply, route


class ReleaseGitHub(GitHubServer):
    def __init__(self, repo: str = "octo-org/sample") -> None:
        self.releases: list[dict[str, Any]] = []
        self.pulls: list[dict[str, Any]] = []
        super().__init__(repo)

    def add_draft(self, tag: str, body: str = "## Summary\n\nSample release.") -> dict[str, Any]:
        rel = openapi.example("release")
        rid = self._next_id()
        rel.update(
            id=rid,
            tag_name=tag,
            name=tag,
            body=body,
            draft=True,
            prerelease=False,
            published_at=None,
            html_url=f"https://github.com/{self.repo}/releases/tag/untagged-{rid}",
            url=self._api(f"/releases/{rid}"),
        )
        self.releases.append(rel)
        return rel

    def _build_routes(self) -> list[Any]:
        routes = super()._build_routes()
        extra = [
            ("GET", "/repos/{owner}/{repo}/releases", self._list_releases),
            ("PATCH", "/repos/{owner}/{repo}/releases/{release_id}", self._update_release),
            ("GET", "/repos/{owner}/{repo}/pulls", self._list_pulls),
            ("POST", "/repos/{owner}/{repo}/pulls", self._create_pull),
        ]
        return routes + [route(method, template, fn) for method, template, fn in extra]

    def _list_releases(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        return self._page(list(reversed(self.releases)), f"/repos/{self.repo}/releases", q)

    def _update_release(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        for rel in self.releases:
            if str(rel["id"]) == p["release_id"]:
                rel.update(
                    {
                        k: v
                        for k, v in body.items()
                        if k in {"tag_name", "draft", "prerelease", "body"}
                    }
                )
                if not rel["draft"]:
                    rel["html_url"] = (
                        f"https://github.com/{self.repo}/releases/tag/{rel['tag_name']}"
                    )
                    rel["published_at"] = "2026-01-01T00:00:00Z"
                return 200, rel, {}
        raise HttpReply(
            404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
        )

    def _list_pulls(self, p: dict[str, str], q: dict[str, str], _: Any) -> Any:
        head = q.get("head")
        items = [
            pr
            for pr in self.pulls
            if pr["state"] == q.get("state", "open")
            and (head is None or f"{self.owner}:{pr['head']['ref']}" == head)
        ]
        return self._page(items, f"/repos/{self.repo}/pulls", q)

    def _create_pull(self, p: dict[str, str], q: dict[str, str], body: Any) -> Any:
        pr = openapi.example("pull-request")
        number = 100 + len(self.pulls)
        pr.update(number=number, title=body["title"], body=body.get("body"), state="open")
        pr["requested_teams"] = []  # GitHub's example team lacks the schema's required `type`
        pr["head"]["ref"] = body["head"]
        pr["base"]["ref"] = body["base"]
        self.pulls.append(pr)
        return 201, pr, {}
