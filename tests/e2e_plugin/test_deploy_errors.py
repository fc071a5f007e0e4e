"""Issue #18: a deploy that fails inside the emulator says why, fast, and leaves nothing.

moto 5.2.5's CloudFormation crashes (TypeError, HTTP 500 with an HTML page) on an SSM
parameter whose `Tags` are a JSON map: botocore cannot parse the answer, and the old error
was only "Unable to parse response ... invalid XML".
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from steward.e2e import aws
from steward.e2e.deployer import CloudFormationDeployer, DeployError, StackSpec, first_line
from steward.e2e.naming import RUN_TAG


def _crashing_spec(name: str, parameter: str) -> StackSpec:
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "DependsOn": "Queue",
                "Properties": {
                    "Name": parameter,
                    "Type": "String",
                    "Value": "v",
                    "Tags": {"k": "v"},  # CloudFormation's form for SSM; moto wants a list
                },
            },
        }
    }
    return StackSpec(name=name, template=template, tags={RUN_TAG: "r"})


def test_a_crash_inside_create_stack_is_explained_fast_and_leaves_nothing(
    aws_env: Any, cfn: Any
) -> None:
    name, parameter = f"t-{secrets.token_hex(4)}", f"/e2e/{secrets.token_hex(4)}"
    deployer = CloudFormationDeployer()
    assert deployer.emulated
    sent: list[str] = []
    deployer.cfn.meta.events.register(
        "before-send.cloudformation.CreateStack", lambda **_: sent.append("CreateStack")
    )
    with pytest.raises(DeployError) as caught:
        deployer.deploy(_crashing_spec(name, parameter))

    message = str(caught.value)
    assert message.startswith(f"deploy of stack {name} failed: CreateStack failed with HTTP 500")
    assert "The server encountered an internal error" in message  # the body's first line
    assert "Unable to parse response" not in message
    assert "stack CREATE_IN_PROGRESS" in message  # where moto leaves a crashed create
    assert f"the emulator at {aws_env.endpoint} failed inside CreateStack" in message
    assert "its log has the full reason" in message
    assert sent == ["CreateStack"]  # no retry storm: the standard mode's 8 attempts took ~31 s

    pages = cfn.get_paginator("list_stacks").paginate()
    statuses = [
        s["StackStatus"] for p in pages for s in p["StackSummaries"] if s["StackName"] == name
    ]
    assert statuses == ["DELETE_COMPLETE"]
    queues = aws.client("sqs").list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    assert queues == []
    with pytest.raises(Exception, match="ParameterNotFound"):
        aws.client("ssm").get_parameter(Name=parameter)


class _Failing(BaseHTTPRequestHandler):
    """Answers every CloudFormation call with a parseable HTTP 500 (which botocore retries)."""

    calls: Counter[str] = Counter()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        action = parse_qs(self.rfile.read(length).decode()).get("Action", ["?"])[0]
        type(self).calls[action] += 1
        body = (
            b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
            b"<Message>boom</Message></Error><RequestId>1</RequestId></ErrorResponse>"
        )
        self.send_response(500)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def failing_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Failing.calls.clear()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_emulators_5xx_is_retried_at_most_once(failing_endpoint: str) -> None:
    deployer = CloudFormationDeployer(
        cfn=aws.client("cloudformation", endpoint_url=failing_endpoint)
    )
    with pytest.raises(Exception, match="InternalFailure"):
        deployer.cfn.create_stack(StackName="s", TemplateBody="{}")
    with pytest.raises(Exception, match="InternalFailure"):
        deployer.cfn.update_stack(StackName="s", TemplateBody="{}")
    with pytest.raises(Exception, match="InternalFailure"):
        deployer.cfn.delete_stack(StackName="s")
    # CreateStack: no retry (a second try could only answer "already exists")
    assert _Failing.calls == {"CreateStack": 1, "UpdateStack": 2, "DeleteStack": 2}


def test_a_delete_that_crashes_the_emulator_is_a_deploy_error_with_its_reason(
    failing_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # only DeleteStack is under test: the queries around it would retry the standard way
    monkeypatch.setattr("steward.e2e.deployer.stack_resources", lambda cfn, name: [])
    deployer = CloudFormationDeployer(
        cfn=aws.client("cloudformation", endpoint_url=failing_endpoint)
    )
    deployer.status = lambda name: "CREATE_COMPLETE"  # type: ignore[method-assign]
    deployer._summary = lambda name: None  # type: ignore[method-assign]
    deployer.failure_reason = lambda name: ""  # type: ignore[method-assign]
    with pytest.raises(DeployError) as caught:
        deployer.delete("s", settle=0)
    message = str(caught.value)
    assert message.startswith("delete of stack s failed: DeleteStack failed with HTTP 500")
    assert "InternalFailure: boom" in message
    assert f"the emulator at {failing_endpoint} failed inside DeleteStack" in message


def test_real_aws_keeps_the_standard_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    client = aws.client("cloudformation", region_name="eu-west-1")
    assert not aws.is_emulator(client)
    assert not CloudFormationDeployer(cfn=client).emulated


def test_first_line_skips_tags_and_the_status_words() -> None:
    page = (
        b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
        b"<h1>Internal Server Error</h1>\n<p>The server failed &amp; said so.</p>\n"
    )
    assert first_line(page, 500) == "The server failed & said so."
    assert first_line(b"", 500) == ""
