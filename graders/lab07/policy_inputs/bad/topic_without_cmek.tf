resource "google_pubsub_topic" "events" {
  name                       = "mfgcp-prod-asse1-events"
  message_retention_duration = "604800s"

  labels = {
    plant       = "rvb01"
    environment = "prod"
    cost_center = "cc-4120-mfg-digital"
    owner       = "copilot-platform"
  }
}

resource "google_pubsub_subscription" "worker" {
  name                 = "mfgcp-prod-asse1-events-worker"
  topic                = "projects/meridian-mfg-copilot/topics/mfgcp-prod-asse1-events"
  ack_deadline_seconds = 60

  labels = {
    plant       = "rvb01"
    environment = "prod"
    cost_center = "cc-4120-mfg-digital"
    owner       = "copilot-platform"
  }

  dead_letter_policy {
    dead_letter_topic     = "projects/meridian-mfg-copilot/topics/mfgcp-prod-asse1-events-dlq"
    max_delivery_attempts = 5
  }
}

resource "google_pubsub_topic_iam_member" "api_publishes" {
  topic  = "projects/meridian-mfg-copilot/topics/mfgcp-prod-asse1-events"
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:mfgcp-prod-copilot-api@meridian-mfg-copilot.iam.gserviceaccount.com"
}
