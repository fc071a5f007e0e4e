"""boto3 clients for E2E work; the endpoint follows AWS_ENDPOINT_URL (an emulator or AWS)."""

from __future__ import annotations

import os
from typing import Any

from botocore.config import Config

DEFAULT_REGION = "us-east-1"


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def client(service: str, *, endpoint_url: str | None = None, region_name: str | None = None) -> Any:
    """A client with retries on throttling; boto3 itself honours AWS_ENDPOINT_URL[_<SERVICE>]."""
    import boto3

    cfg = Config(retries={"max_attempts": 8, "mode": "standard"}, connect_timeout=10)
    kwargs: dict[str, Any] = {"region_name": region_name or region(), "config": cfg}
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    return boto3.client(service, **kwargs)  # type: ignore[call-overload]


def account_id() -> str:
    return str(client("sts").get_caller_identity()["Account"])
