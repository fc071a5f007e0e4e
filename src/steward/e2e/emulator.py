"""A local AWS emulator for E2E runs without an account: moto's server mode.

`start_moto()` runs moto on a free loopback port in this process (call it from the pytest
controller, before xdist starts workers, and they inherit the environment). The endpoint
host is `localhost` because moto only resolves S3 template URLs on that host; Lambda runs on
moto's simple backend (no Docker): an invoke echoes its payload, handler code does not run.
moto is not a dependency of steward: install `moto[server]` where you use this.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from typing import Any

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class Emulator:
    endpoint: str
    server: Any

    @property
    def env(self) -> dict[str, str]:
        """Environment for boto3 (and subprocesses) to use this emulator only."""
        return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def stop(self) -> None:
        self.server.stop()


def start_moto() -> Emulator:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    endpoint = f"http://localhost:{port}"
    config = json.dumps({"lambda": {"use_docker": False}}).encode()
    url = f"{endpoint}/moto-api/config"
    request = urllib.request.Request(url, data=config, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
    return Emulator(endpoint, server)
