from steward.e2e import BaseInfrastructure


class MetricsStack(BaseInfrastructure):
    def create_resources(self) -> None:
        functions = self.create_lambda_functions()
        self.add_cfn_output("Namespace", "ExampleApp")
        self.add_cfn_output("ColdStartRole", {"Ref": "E2ELambdaRole"})
        assert set(functions) == {"BasicHandler", "ColdStart"}
