"""`merge_group` payloads derived from GitHub's own example and checked against its schema.

@octokit/webhooks-examples has one `merge_group: checks_requested` payload (repository
``octo-org/octo-repo``, a group for PR #104). Tests need groups for their own pull requests
and repository, so `merge_group_payload` copies the example, changes only the group's head
SHA, its head ref (which names the pull request) and, when asked, the repository's name, and
validates the result against the official schema before handing it out.
"""

from __future__ import annotations

from typing import Any

from tests.support.github_material import REPO, base_example, validate_webhook

GROUP_SHA = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"  # the example's head_sha
EXAMPLE_PR = 104  # the pull request the example's head ref names


def merge_group_payload(
    number: int | None = 2,
    *,
    head_sha: str = GROUP_SHA,
    base: str = "main",
    repo: str | None = REPO,
    head_ref: str | None = None,
) -> dict[str, Any]:
    """A ``merge_group: checks_requested`` payload for the group made for PR ``number``.

    ``head_ref`` overrides the ref (e.g. one that names no pull request); ``repo=None``
    keeps the example's repository.
    """
    payload = base_example("merge_group", "checks_requested")
    group = payload["merge_group"]
    group["head_sha"] = head_sha
    group["head_commit"]["id"] = head_sha
    group["base_ref"] = f"refs/heads/{base}"
    group["head_ref"] = head_ref or (
        f"refs/heads/gh-readonly-queue/{base}/pr-{number}-929f8209d40f77f4abc622a499c93a83babdbe64"
    )
    if repo is not None:
        owner, name = repo.split("/")
        r = payload["repository"]
        r.update(name=name, full_name=repo, html_url=f"https://github.com/{repo}")
        r["owner"]["login"] = owner
    validate_webhook("merge_group", payload)
    return payload
