"""A CDK feature stack, as a user of the `cdk` extra writes it (imported only when installed)."""

from __future__ import annotations

from steward.e2e.cdk import CdkInfrastructure


class CdkFeatureStack(CdkInfrastructure):
    def create_resources(self) -> None:
        import aws_cdk as cdk

        functions = self.create_lambda_functions()
        queue = cdk.aws_sqs.Queue(self.stack, "Events")
        queue.grant_send_messages(functions["BasicHandler"])
        self.add_cfn_output("EventsQueue", queue.queue_url, arn=queue.queue_arn)
