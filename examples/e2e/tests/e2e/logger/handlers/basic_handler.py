import json


def lambda_handler(event, context):
    print(json.dumps({"level": "INFO", "message": "received", "event": event}))
    return event
