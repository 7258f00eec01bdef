"""Headings of notebooks/lab03_dockerizing_pipelines.ipynb that each check points students to."""

MULTI_STAGE = "Multi-stage Dockerfile"
SCANNING = "Vulnerability scanning"
SECRETS = "Secure handling of environment variables"
COMPOSE = "Local development with docker-compose"
HARDENING = "Image hardening checklist"
LAB = "Lab: staging and production overrides"
