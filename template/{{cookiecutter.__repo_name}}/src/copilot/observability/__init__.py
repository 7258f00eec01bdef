"""Logging wiring of the service (Lab 04 adds Prometheus metrics in ``metrics.py``)."""
