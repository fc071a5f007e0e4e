"""One exception hierarchy, so the CLI can turn any failure into a message and an exit code.

Exit codes, the same for every command: 2 for usage, config and input errors (the user must
change what they asked for or wrote: an option, the config, a template, a path), 1 for
failures of the work itself (an API refused, a git command failed, an artifact was tampered,
data that comes from GitHub, such as an event payload, does not have its documented shape).
Core code raises these, never a CLI (click) error.
"""

from __future__ import annotations


class StewardError(Exception):
    """Base of every error steward raises on purpose; its message is for a user."""

    exit_code = 1


class UsageError(StewardError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = 2


class ConfigError(StewardError):
    """A config file is malformed or holds a bad value; the message names file, line and key."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class PayloadError(StewardError):
    """An event payload or API response does not have the shape GitHub documents."""


class InputError(StewardError):
    """An input file the user named cannot be read as what it must be (missing, over its
    size cap, not UTF-8, not JSON, nested beyond reason): the user must change the input."""

    exit_code = 2


class GitHubError(StewardError):
    """The GitHub API answered with an error (after retries where retrying is safe)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class AuthError(GitHubError):
    """401/403 without rate limiting: the token is missing, wrong or lacks a permission."""


class NotFoundError(GitHubError):
    """404: the repository, issue or resource does not exist or the token cannot see it."""


class ValidationFailed(GitHubError):
    """422: GitHub refused the request's content."""


class RateLimitError(GitHubError):
    """A primary or secondary rate limit outlasted the retry budget."""


class GitError(StewardError):
    """A git command failed or the repository is not in the state the command needs."""


class ReleaseError(StewardError):
    """A release pipeline stage failed; the message says how to resume."""


class TamperedArtifactError(ReleaseError):
    """A sealed artifact's hash no longer matches what was recorded: refuse to go on."""
