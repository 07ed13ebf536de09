"""SQS guardrails (the stream consumer's failure queue and any queue that may carry records)."""
