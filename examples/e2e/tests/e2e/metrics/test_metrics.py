import boto3
import pytest


@pytest.mark.parametrize(
    ("name", "handler"),
    [("BasicHandler", "basic_handler.lambda_handler"), ("ColdStart", "cold_start.lambda_handler")],
)
def test_one_function_per_handler_file(infrastructure, name, handler):
    config = boto3.client("lambda").get_function(FunctionName=infrastructure[name])["Configuration"]
    assert config["FunctionArn"] == infrastructure[name + "Arn"]
    assert config["Handler"] == handler


def test_custom_outputs(infrastructure):
    assert infrastructure["Namespace"] == "ExampleApp"
