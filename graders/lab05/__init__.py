"""Lab 05 grader: CI/CD with GitHub Actions and quality gates (workflow, governance, PR docs gate)."""
