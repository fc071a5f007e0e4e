"""Count a function's idempotency records (Powertools' ``data_fetcher.idempotency``)."""

from __future__ import annotations

from steward.e2e import aws
from steward.e2e.compat.data_fetcher.common import retry_on, retry_window


def get_ddb_idempotency_record(
    function_name: str, table_name: str, *, timeout: float | None = None
) -> int:
    """How many records of ``function_name`` the table holds; ``ValueError`` when there is
    still none after Powertools' window (10 tries, 2 s delay, 1.5 s jitter)."""
    ddb = aws.client("dynamodb")

    def scan() -> int:
        ret = ddb.scan(
            TableName=table_name,
            FilterExpression="contains (id, :functionName)",
            ExpressionAttributeValues={":functionName": {"S": f"{function_name}#"}},
        )
        if not ret["Items"]:
            raise ValueError("Empty response from DynamoDB Repeating...")
        return int(ret["Count"])

    return retry_on(
        ValueError,
        scan,
        what=f"idempotency records of {function_name} in {table_name}",
        timeout=retry_window(10, 2, 1.5) if timeout is None else timeout,
        interval=2,
    )
