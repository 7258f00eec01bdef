# The Copilot API runs as its own service account with the few project roles it needs; access to
# its bucket, topic and subscription is granted on those resources by the modules.

resource "google_service_account" "copilot" {
  account_id   = "mfgcp-${var.environment}-copilot-api"
  display_name = "Manufacturing Copilot API (${var.environment})"
}

resource "google_project_iam_member" "copilot" {
  for_each = toset([
    "roles/cloudsql.client",       # connect through the Cloud SQL connector
    "roles/cloudsql.instanceUser", # log in with IAM database authentication
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/cloudtrace.agent",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.copilot.email}"
}
