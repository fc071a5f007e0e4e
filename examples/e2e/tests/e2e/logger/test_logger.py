import json

from steward.e2e.data_fetcher import get_lambda_response


def test_basic_handler_is_deployed(infrastructure):
    assert infrastructure["BasicHandlerArn"].endswith(":function:" + infrastructure["BasicHandler"])


def test_basic_handler_answers(infrastructure):
    _, body = get_lambda_response(infrastructure["BasicHandler"], {"name": "e2e"})
    assert json.loads(body) == {"name": "e2e"}
