"""The handful of GitHub REST operations steward's automation uses, on one repository."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from steward.domain.events import issue_from_api
from steward.domain.models import ChangedFile, Issue
from steward.errors import PayloadError
from steward.forge.client import GitHubClient, path


class RepoApi:
    def __init__(self, client: GitHubClient, full_name: str) -> None:
        if full_name.count("/") != 1 or not all(full_name.split("/")):
            raise PayloadError(f"repository must be OWNER/NAME, got {full_name!r}")
        self.client = client
        self.owner, self.name = full_name.split("/")
        self.full_name = full_name

    def _p(self, template: str, **parts: str | int) -> str:
        return path(template, owner=self.owner, repo=self.name, **parts)

    # -- reads ----------------------------------------------------------------------------

    def pr_files(self, number: int) -> list[ChangedFile]:
        url = self._p("/repos/{owner}/{repo}/pulls/{n}/files", n=number)
        return files_from_api(list(self.client.paginate(url)))

    def issue(self, number: int) -> Issue:
        return issue_from_api(
            self.client.get(self._p("/repos/{owner}/{repo}/issues/{n}", n=number))
        )

    def open_issues_with_label(self, label: str) -> list[Issue]:
        return self.issues_with_label(label, state="open")

    def issues_with_label(self, label: str, *, state: str = "open") -> list[Issue]:
        """Issues (not PRs) carrying ``label``; ``state`` is open, closed or all."""
        url = self._p("/repos/{owner}/{repo}/issues")
        items = self.client.paginate(url, {"state": state, "labels": label})
        return [issue_from_api(i) for i in items if "pull_request" not in i]

    def open_items(self) -> list[Issue]:
        """Every open issue and pull request (the sweep's input), with `updated_at`."""
        url = self._p("/repos/{owner}/{repo}/issues")
        return [issue_from_api(i) for i in self.client.paginate(url, {"state": "open"})]

    def comments(self, number: int) -> Iterator[dict[str, Any]]:
        return self.client.paginate(self._p("/repos/{owner}/{repo}/issues/{n}/comments", n=number))

    def combined_status(self, sha: str) -> dict[str, tuple[str, str]]:
        """Latest status per context on ``sha``: context -> (state, description)."""
        data = self.client.get(self._p("/repos/{owner}/{repo}/commits/{ref}/status", ref=sha))
        out: dict[str, tuple[str, str]] = {}
        for s in data.get("statuses", []):
            out.setdefault(s["context"], (s["state"], s.get("description") or ""))
        return out

    def labels(self) -> list[dict[str, Any]]:
        return list(self.client.paginate(self._p("/repos/{owner}/{repo}/labels")))

    # -- writes ---------------------------------------------------------------------------

    def add_labels(self, number: int, labels: list[str]) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/issues/{n}/labels", n=number), {"labels": labels}
        )

    def remove_label(self, number: int, label: str) -> None:
        self.client.delete(
            self._p("/repos/{owner}/{repo}/issues/{n}/labels/{name}", n=number, name=label),
            missing_ok=True,
        )

    def comment(self, number: int, body: str) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/issues/{n}/comments", n=number), {"body": body}
        )

    def set_status(self, sha: str, state: str, context: str, description: str) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/statuses/{sha}", sha=sha),
            {"state": state, "context": context, "description": description[:140]},
        )

    def close_issue(self, number: int, reason: str) -> None:
        self.client.patch(
            self._p("/repos/{owner}/{repo}/issues/{n}", n=number),
            {"state": "closed", "state_reason": reason},
        )

    def create_label(self, name: str, color: str, description: str) -> None:
        self.client.post(
            self._p("/repos/{owner}/{repo}/labels"),
            {"name": name, "color": color, "description": description},
        )

    def update_label(self, current: str, *, new_name: str, color: str, description: str) -> None:
        self.client.patch(
            self._p("/repos/{owner}/{repo}/labels/{name}", name=current),
            {"new_name": new_name, "color": color, "description": description},
        )

    def delete_label(self, name: str) -> None:
        self.client.delete(
            self._p("/repos/{owner}/{repo}/labels/{name}", name=name), missing_ok=True
        )


def files_from_api(items: list[Any]) -> list[ChangedFile]:
    """Parse GitHub's "list pull request files" response (also what `--files` reads)."""
    if not isinstance(items, list):
        raise PayloadError("changed files must be a JSON list (GitHub's list-files response)")
    out: list[ChangedFile] = []
    for i, f in enumerate(items):
        if not isinstance(f, dict) or not isinstance(f.get("filename"), str):
            raise PayloadError(f"changed files[{i}].filename is missing or not a string")
        adds, dels = f.get("additions"), f.get("deletions")
        if not isinstance(adds, int) or not isinstance(dels, int):
            raise PayloadError(f"changed files[{i}]: additions/deletions must be integers")
        prev = f.get("previous_filename")
        out.append(
            ChangedFile(
                filename=f["filename"],
                additions=adds,
                deletions=dels,
                status=str(f.get("status", "modified")),
                previous_filename=prev if isinstance(prev, str) else None,
            )
        )
    return out
