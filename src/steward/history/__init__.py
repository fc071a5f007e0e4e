"""Git history: the only package that runs git. Tags, commits in one streaming pass, and
which release each commit is in."""

from steward.history.git import Commit, Tag, iter_commits, read_tags, remote_url
from steward.history.releases import UNRELEASED, assign_releases

__all__ = [
    "UNRELEASED",
    "Commit",
    "Tag",
    "assign_releases",
    "iter_commits",
    "read_tags",
    "remote_url",
]
