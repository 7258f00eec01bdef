"""Lab 06 grader: Cloud Run service definitions, the deploy script, the deployment runbook and the smoke test."""
