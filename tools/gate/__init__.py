"""The offline merge gate: the HIPAA policy pack run against an offline plan over the Pulumi
analyzer gRPC protocol, reported as text, Markdown, JSON or SARIF (``python -m tools.gate``)."""
