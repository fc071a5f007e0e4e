"""The GitHub App manifest for steward, and the page that registers an App from it.

GitHub's manifest flow ("Registering a GitHub App from a manifest"): a form POSTs the
manifest to ``https://github.com/settings/apps/new`` (or an organization's), the user names
and approves the App, GitHub redirects to ``redirect_url?code=CODE``, and
``POST /app-manifests/{code}/conversions`` trades the code (once, within an hour) for the
App's id, slug, webhook secret and private key. `steward serve manifest` drives both ends.

The permissions and events are the least the server needs: each is listed with the call or
policy that needs it, and a test holds them to GitHub's published permission names and event
names. Pure: no I/O.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote, urlsplit

from steward.errors import UsageError

DEFAULT_NAME = "steward"
DESCRIPTION = (
    "Repository automation: pull request labels and title checks, issue triage, "
    "release announcements and sweeps (repo-steward)."
)
GITHUB_URL = "https://github.com"
MAX_NAME = 34  # GitHub's limit on an App's name

# Repository permissions, each for what steward calls with the installation's token
# (github.repo_api.RepoApi, server.repo_config, server.processing).
PERMISSIONS: dict[str, str] = {
    # labels (add, remove, create), comments with markers, closing issues (post-release,
    # sweep), and the reads behind them: issues, timelines, GET /search/issues.
    "issues": "write",
    # the same label and comment writes on pull requests (the issues endpoints need this
    # permission for a PR), and GET .../pulls/{n}, .../pulls/{n}/files (size, areas, the
    # queued PR of a merge group).
    "pull_requests": "write",
    # POST .../statuses/{sha} (steward/semantic-title, the merge gate) and the combined
    # status read before writing one.
    "statuses": "write",
    # GET .../contents/.github/steward.yml (the repository's config); also what GitHub asks
    # of an App subscribed to `push` and `release`. Read only: the server never writes
    # files or releases (publishing is the release pipeline's, with its own token).
    "contents": "read",
    # what GitHub asks of the `merge_group` subscription (the merge gate's and the title
    # check's statuses on a merge group's commit).
    "merge_queues": "read",
    # every App with repository permissions has it: GET /installation/repositories (sweeps).
    "metadata": "read",
}
# No organization permission: no server path reads teams or members (triage goes by the
# payload's author_association).

# What the server handles itself besides the policies' events: a push touching
# .github/steward.yml forgets the cached config (processing._push). `installation` reaches
# every App without a subscription (it schedules and removes sweeps).
SERVER_EVENTS: tuple[str, ...] = ("push",)


def subscribed_events() -> tuple[str, ...]:
    """The webhook events the App subscribes to: every event a policy declares (from the
    registry, so a policy for a new event needs no edit here) and the server's own, sorted."""
    from steward.policies.registry import event_names

    return tuple(sorted({*event_names(), *SERVER_EVENTS}))


def app_manifest(
    url: str,
    *,
    name: str = DEFAULT_NAME,
    public: bool = False,
    redirect_url: str | None = None,
    webhook_path: str = "/webhook",
) -> dict[str, Any]:
    """The manifest for a steward server at ``url`` (its webhook at ``<url>/webhook``).

    Private by default: an App only its owner can install is the safe start.
    """
    base = public_url(url)
    if not name.strip() or len(name) > MAX_NAME:
        raise UsageError(f"--name must be 1 to {MAX_NAME} characters (GitHub's limit)")
    manifest: dict[str, Any] = {
        "name": name,
        "url": base,
        "hook_attributes": {"url": base + webhook_path, "active": True},
        "public": public,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(subscribed_events()),
        "description": DESCRIPTION,
    }
    if redirect_url is not None:
        manifest["redirect_url"] = public_url(redirect_url, what="--redirect-url")
    return manifest


def public_url(url: str, *, what: str = "--url") -> str:
    """``url`` without a trailing slash; an absolute http(s) URL without query or fragment,
    else a `UsageError` (GitHub would refuse the manifest later, less clearly)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UsageError(f"{what} must be an absolute URL such as https://steward.example.com")
    if parts.query or parts.fragment:
        raise UsageError(f"{what} must have no query or fragment")
    return url.strip().rstrip("/")


def new_app_url(org: str | None = None, github_url: str = GITHUB_URL) -> str:
    """Where the form posts: the user's new-App page, or the organization's."""
    base = public_url(github_url, what="--github-url")
    if org is None:
        return f"{base}/settings/apps/new"
    return f"{base}/organizations/{quote(org, safe='')}/settings/apps/new"


def registration_page(manifest: dict[str, Any], action: str) -> str:
    """A self-contained HTML page whose form POSTs ``manifest`` to ``action``.

    The JSON travels in a hidden input's attribute, escaped (quotes included), so no name or
    URL in it can end the attribute or open a tag.
    """
    value = html.escape(json.dumps(manifest, indent=2), quote=True)
    name = html.escape(str(manifest.get("name", "")), quote=True)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Create the GitHub App {name}</title>
</head>
<body>
<h1>Create the GitHub App {name}</h1>
<p>GitHub asks you to confirm the name, then redirects you to the App's URL with
<code>?code=...</code> in the address bar (the page there need not load).
Run <code>steward serve manifest --convert CODE --dir DIR</code> with that code within the hour.</p>
<form action="{html.escape(action, quote=True)}" method="post">
<input type="hidden" name="manifest" value="{value}">
<button type="submit">Create the GitHub App on GitHub</button>
</form>
</body>
</html>
"""
