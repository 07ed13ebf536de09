"""Local servers that `make local-up` runs besides moto_server: PostgreSQL (pgserver's binaries)
and the stream poller. Lifecycle in Python; start-local.sh and stop-local.sh call
``python -m scripts.local_servers``."""
