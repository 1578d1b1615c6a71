"""The load test: sustained throughput, throttling and latency against a stream (python -m loadtest)."""
