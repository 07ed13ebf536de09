"""The DynamoDB stream consumer that writes the audit trail (``handler.handler``)."""
