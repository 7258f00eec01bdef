"""Lab 03 grader: Dockerfiles (structure, hardening, hadolint, checkov) and the compose stack with its
development, staging and production overrides, merged the way Docker Compose merges them."""
