"""Headings of notebook 06 (labs/lab06/lab06_cloud_run_deployment.py) that each check points students to."""

ARCHITECTURE = "Infrastructure diagram: VPC, Cloud SQL, Cloud Storage and Cloud Run"
SERVICE = "Cloud Run service YAML: revisions, probes and limits"
IAM = "Deployment commands with gcloud: IAM roles and service accounts"
SECRETS = "Secrets and key management: Secret Manager and CMEK"
CANARY = "Traffic splitting for canary releases"
LAB = "Lab: deployment runbook with rollback plan and smoke tests"
