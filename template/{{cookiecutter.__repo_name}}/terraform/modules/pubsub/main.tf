# A topic, its worker subscription with retries and a dead-letter topic, and a subscription that
# keeps the dead letters for inspection. A message that fails max_delivery_attempts times is moved
# aside instead of blocking the queue or being lost.

locals {
  pubsub_agent = "serviceAccount:service-${var.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "this" {
  name                       = "${var.name_prefix}-${var.topic}"
  kms_key_name               = var.kms_key_name
  message_retention_duration = var.message_retention
  labels                     = var.labels

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }
}

resource "google_pubsub_topic" "dead_letter" {
  name                       = "${var.name_prefix}-${var.topic}-dlq"
  kms_key_name               = var.kms_key_name
  message_retention_duration = var.message_retention
  labels                     = var.labels

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }
}

resource "google_pubsub_subscription" "worker" {
  name                       = "${var.name_prefix}-${var.topic}-worker"
  topic                      = google_pubsub_topic.this.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.message_retention
  enable_message_ordering    = false
  labels                     = var.labels

  expiration_policy {
    ttl = "" # never expire, even when no worker pulls for a while
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }
}

resource "google_pubsub_subscription" "dead_letter" {
  name                       = "${var.name_prefix}-${var.topic}-dlq-inspect"
  topic                      = google_pubsub_topic.dead_letter.id
  message_retention_duration = var.message_retention
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }
}

# Dead lettering needs the Pub/Sub service agent to publish to the dead-letter topic and to
# acknowledge the forwarded message on the source subscription.
resource "google_pubsub_topic_iam_member" "agent_publishes_dead_letters" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "agent_acks_forwarded" {
  subscription = google_pubsub_subscription.worker.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

resource "google_pubsub_topic_iam_member" "publishers" {
  for_each = toset(var.publisher_members)

  topic  = google_pubsub_topic.this.id
  role   = "roles/pubsub.publisher"
  member = each.value
}

resource "google_pubsub_subscription_iam_member" "subscribers" {
  for_each = toset(var.subscriber_members)

  subscription = google_pubsub_subscription.worker.id
  role         = "roles/pubsub.subscriber"
  member       = each.value
}
