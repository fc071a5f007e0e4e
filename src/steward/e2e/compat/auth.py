"""`build_iam_auth`: SigV4 auth for `requests`, as Powertools' ``utils.auth``.

Needs ``aws-requests-auth`` (Powertools' own test dependency), imported when called.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlparse

from steward.e2e import aws
from steward.errors import StewardError


def build_iam_auth(url: str, aws_service: str) -> Any:
    """A ``BotoAWSRequestsAuth`` for ``url``'s host, in the E2E region."""
    try:
        boto_utils = importlib.import_module("aws_requests_auth.boto_utils")
    except ImportError as exc:
        raise StewardError(
            "build_iam_auth needs aws-requests-auth: pip install aws-requests-auth"
        ) from exc
    return boto_utils.BotoAWSRequestsAuth(
        aws_host=urlparse(url).hostname, aws_region=aws.region(), aws_service=aws_service
    )
