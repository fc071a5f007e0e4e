"""boto3 clients for E2E work; the endpoint follows AWS_ENDPOINT_URL (an emulator or AWS)."""

from __future__ import annotations

import os
from collections.abc import Mapping
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


# hosts of AWS's own endpoints; any other endpoint (AWS_ENDPOINT_URL) is an emulator
AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def is_emulator(client: Any) -> bool:
    """Does `client` talk to an emulator (moto, LocalStack) rather than AWS itself?"""
    from urllib.parse import urlparse

    host = urlparse(str(client.meta.endpoint_url)).hostname or ""
    return not host.endswith(AWS_HOSTS)


def cap_server_error_retries(client: Any, retries: Mapping[str, int]) -> None:
    """Allow operation -> at most N retries after an HTTP 5xx (other retries stay standard).

    An emulator's 5xx is a crash of its own code, not a transient fault: the standard mode's
    8 attempts with backoff only make the error arrive half a minute later. A handler on the
    operation's own `needs-retry` event runs before the client's retry handler (the more
    specific event is emitted first) and its `False` is taken as the answer.
    """
    service = client.meta.service_model.service_id.hyphenize()
    for operation, limit in retries.items():

        def no_more(attempts: int, response: Any = None, _limit: int = limit, **_: Any) -> Any:
            http = response[0] if response else None
            if http is not None and http.status_code >= 500 and attempts > _limit:
                return False
            return None

        client.meta.events.register(
            f"needs-retry.{service}.{operation}",
            no_more,
            unique_id=f"steward-cap-5xx-{service}-{operation}",
        )
