from steward.e2e import BaseInfrastructure


class LoggerStack(BaseInfrastructure):
    def create_resources(self) -> None:
        self.create_lambda_functions()
