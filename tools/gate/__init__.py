"""The offline merge gate: the HIPAA policy pack run against an offline plan over the Pulumi
analyzer gRPC protocol, reported as text, Markdown, JSON or SARIF (``python -m tools.gate``)."""

import os

# gRPC's core logs at INFO to stderr (e.g. "Got goaway" when a stopped pack cancels a call), which
# would break the gate's one-line interrupt message; it must be set before grpc is imported.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
