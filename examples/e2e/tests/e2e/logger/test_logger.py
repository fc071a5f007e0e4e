import json
from datetime import UTC, datetime

from steward.e2e.data_fetcher import get_lambda_response, get_logs


def test_basic_handler_is_deployed(infrastructure):
    assert infrastructure["BasicHandlerArn"].endswith(":function:" + infrastructure["BasicHandler"])


def test_basic_handler_answers(infrastructure):
    _, body = get_lambda_response(infrastructure["BasicHandler"], {"name": "e2e"})
    assert json.loads(body) == {"name": "e2e"}


def test_basic_handler_logs_what_it_received(infrastructure):
    # on moto the handler runs in steward's local runtime, which writes its output to
    # CloudWatch Logs as Lambda does; on AWS, Lambda itself does
    start = datetime.now(UTC)
    get_lambda_response(infrastructure["BasicHandler"], {"name": "logged"})
    lines = get_logs(infrastructure["BasicHandler"], start, filter_expression="received")
    assert any(isinstance(line, dict) and line["event"] == {"name": "logged"} for line in lines)
