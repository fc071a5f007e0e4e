"""Versions, changelog, release notes and the release pipeline."""

# Load the config package first: its model imports this package's config sections, so
# importing e.g. `steward.release.config` on its own would otherwise be a circular import.
import steward.config  # noqa: F401
