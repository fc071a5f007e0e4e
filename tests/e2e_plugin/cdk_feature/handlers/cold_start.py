def lambda_handler(event, context):
    return {"cold_start": True}
