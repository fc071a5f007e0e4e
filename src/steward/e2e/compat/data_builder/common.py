"""Random names for E2E resources (Powertools' ``data_builder.common``)."""

from __future__ import annotations

import secrets


def build_service_name() -> str:
    return f"test_service{build_random_value()}"


def build_random_value(nbytes: int = 10) -> str:
    """URL-safe random text without ``-``, so it fits names that refuse dashes."""
    return secrets.token_urlsafe(nbytes).replace("-", "")
