output "topic_id" {
  description = "Full id of the topic (projects/<project>/topics/<name>)."
  value       = google_pubsub_topic.this.id
}

output "subscription_id" {
  description = "Full id of the worker subscription."
  value       = google_pubsub_subscription.worker.id
}

output "dead_letter_topic_id" {
  description = "Full id of the dead-letter topic."
  value       = google_pubsub_topic.dead_letter.id
}
