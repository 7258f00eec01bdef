"""Configuration and cross-cutting plumbing of the service."""
