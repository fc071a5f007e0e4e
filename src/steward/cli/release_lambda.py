"""The release pipeline's local Lambda runner: on an emulator, a layer canary's Invoke runs
the handler on this machine (steward's local runtime), so the canary proves something there.

It lives in the CLI because `steward.pipeline` may not import `steward.e2e` (the layers of
docs/architecture.md): the `release run` command injects it into the pipeline's sessions.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steward.pipeline.aws import LambdaRunner, LocalLambda
from steward.pipeline.stages.layer_build import machine_arch


def local_lambda(cache_dir: Path, *, skip_regions: tuple[str, ...] = ()) -> LambdaRunner:
    """The runner `release run` injects: on an emulator, a Lambda client's Invoke runs
    the handler here (steward's local runtime), with the layer on its path. moto keeps a
    ZipFile upload where the runtime cannot read it, so the client's ZipFile uploads
    (CreateFunction, PublishLayerVersion) go through the account's S3 on the emulator
    first; real AWS is never touched. ``skip_regions`` are left to moto's echo."""
    from steward.e2e.local_runtime import LocalRuntime, is_emulator
    from steward.e2e.naming import asset_bucket

    def attach(client: Any, clients: Callable[[str], Any]) -> LocalLambda | None:
        region = client.meta.region_name
        if region in skip_regions or not is_emulator(client.meta.endpoint_url):
            return None
        s3 = clients("s3")
        account = clients("sts").get_caller_identity()["Account"]
        bucket = asset_bucket(account, region)
        made: list[str] = []

        def through_s3(params: dict[str, Any], **_: Any) -> None:
            for key in ("Code", "Content"):
                code = params.get(key)
                if isinstance(code, dict) and isinstance(code.get("ZipFile"), bytes):
                    if not made:
                        extra = {}
                        if region != "us-east-1":
                            extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
                        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
                            s3.create_bucket(Bucket=bucket, **extra)
                        made.append(bucket)
                    name = hashlib.sha256(code["ZipFile"]).hexdigest() + ".zip"
                    s3.put_object(Bucket=bucket, Key=name, Body=code["ZipFile"])
                    params[key] = {"S3Bucket": bucket, "S3Key": name}

        for op in ("CreateFunction", "PublishLayerVersion"):
            client.meta.events.register(f"before-parameter-build.lambda.{op}", through_s3)
        LocalRuntime(
            cache_dir, lambda_client=client, s3_client=s3, logs_client=clients("logs")
        ).attach(client)
        python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        machine = machine_arch() or platform.machine().lower()
        return LocalLambda(machine, python, str(cache_dir.resolve()))

    return attach
