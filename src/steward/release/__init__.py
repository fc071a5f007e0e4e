"""Versions, changelog, release notes and the release pipeline."""
