"""``make capacity``: requests per partition at fleet scale, against DynamoDB's partition limits."""
