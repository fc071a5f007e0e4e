"""A local Lambda runtime: run a deployed function's Python handler where the target (moto's
server) has no real Lambda.

`LocalRuntime(cache_dir).attach(client)` (or `.attach_default_session()`) makes a boto3
Lambda client's `Invoke` run the handler here, in a subprocess with Lambda's `sys.path`,
environment, context, timeout, error shapes and CloudWatch logs; `is_emulator(endpoint)`
says when that is needed. Python handlers only; memory is not enforced.
"""

from __future__ import annotations

from steward.e2e.local_runtime.detect import is_emulator
from steward.e2e.local_runtime.runtime import LocalRuntime

__all__ = ["LocalRuntime", "is_emulator"]
