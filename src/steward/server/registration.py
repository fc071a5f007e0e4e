"""The GitHub App's registration from its manifest, step 2: GitHub's code traded for the
App's credentials, saved (`steward.server.credentials`).

``POST /app-manifests/{code}/conversions`` takes no authentication: the code is the
credential. It works once, and GitHub hands the key and secret out only then: everything
that can be checked (no file to overwrite, the directory made and a file written in it) is
checked before the POST; what still fails after it says what was lost.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from steward.errors import StewardError, UsageError
from steward.server.credentials import (
    APP_FILES,
    app_files,
    prepare_dir,
    probe_dir,
    save_credentials,
)

MAX_CODE = 200


@dataclass(frozen=True, slots=True)
class Registered:
    """The App GitHub created, and where its credentials went."""

    app_id: int
    slug: str
    html_url: str | None
    files: dict[str, str]
    """Setting -> the absolute path of its file (no ``webhook_secret`` when GitHub sent
    none)."""

    @property
    def install_url(self) -> str | None:
        return f"{self.html_url}/installations/new" if self.html_url else None

    @property
    def env(self) -> dict[str, str]:
        """The ``STEWARD_*`` variables that point the server at the App (never a secret)."""
        env = {
            "STEWARD_APP_ID": str(self.app_id),
            "STEWARD_APP_SLUG": self.slug,
            "STEWARD_PRIVATE_KEY_FILE": self.files["private_key"],
        }
        if "webhook_secret" in self.files:
            env["STEWARD_WEBHOOK_SECRET_FILE"] = self.files["webhook_secret"]
        return env


def convert_manifest_code(code: str, api_url: str, directory: Path) -> Registered:
    """Trade GitHub's ``code`` (from the redirect after approval) for the App's credentials,
    written into ``directory`` (made, 0700, if absent)."""
    from steward.errors import NotFoundError
    from steward.github.app_api import ConversionAnswerError, convert_manifest
    from steward.github.client import GitHubClient
    from steward.server.manifest import public_url

    code = code.strip()
    if not code or len(code) > MAX_CODE or any(c.isspace() for c in code):
        raise UsageError("--convert takes the code from GitHub's redirect (?code=...)")
    api = public_url(api_url, what="--api-url")
    targets = {key: directory / name for key, name in APP_FILES.items()}
    made = prepare_dir(directory, targets.values())
    unreadable: ConversionAnswerError | None = None
    try:
        probe_dir(directory)
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
    files = app_files(conversion)
    written = save_credentials(targets, files, f"the App {slug} (id {app_id})", html_url)
    return Registered(app_id=app_id, slug=slug, html_url=html_url, files=written)
