"""Cache invalidation from the table's DynamoDB stream (``handler.handler``)."""
