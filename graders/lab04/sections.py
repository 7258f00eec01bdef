"""Headings of notebooks/lab04_monitoring_logging.ipynb that each check points students to."""

SECTION_TAXONOMY = "Metrics taxonomy"
SECTION_INSTRUMENTATION = "Prometheus instrumentation with FastAPI middleware"
SECTION_LOGGING = "Structured JSON logging with correlation ids"
SECTION_ALERTING = "Alerting rules, PagerDuty and Microsoft Teams"
SECTION_GRAFANA = "Grafana dashboard template"
SECTION_LAB = "Lab: synthetic alert scenario and incident runbook entry"
