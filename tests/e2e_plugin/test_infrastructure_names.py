"""The names a Powertools-style `infrastructure.py` reads on its stack class (issue #18:
`self.region`, `self.account_id`, `self.session`, `self.cfn` were missing), on moto."""

from __future__ import annotations

import secrets
from typing import Any

from steward.e2e import aws
from steward.e2e.infrastructure import BaseInfrastructure, DeployContext


class NamesStack(BaseInfrastructure):
    feature = "names"

    def create_resources(self) -> None:
        # what Powertools' infrastructure modules do with these names
        self.template.add_output("Region", self.region)
        self.template.add_output("Account", self.account_id)


def test_a_stack_knows_its_region_account_session_and_cloudformation(aws_env: Any) -> None:
    stack = NamesStack(context=DeployContext(run_id=secrets.token_hex(4)))
    sts = stack.session.client("sts")
    assert stack.region == aws.region()
    assert stack.session.region_name == stack.region
    assert stack.account_id == sts.get_caller_identity()["Account"]
    assert stack.cfn is stack.deployer.cfn
    outputs = stack.deploy()
    try:
        assert outputs == {"Region": stack.region, "Account": stack.account_id}
    finally:
        stack.delete()
    assert stack.deployer.describe(stack.stack_name) is None
