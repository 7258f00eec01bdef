output "region_prefixes" {
  description = "Name prefix of each region's resources (mfgcp-<environment>-<region_short>)."
  value       = local.region_prefix
}

# TODO(lab07): output the documents bucket name of every region

output "events_topics" {
  description = "Pub/Sub topic that plant events are published to, per region."
  value       = { for key, pubsub in module.pubsub : key => pubsub.topic_id }
}

output "api_urls" {
  description = "HTTPS URL of the Copilot API in each region."
  value       = { for key, run in module.cloud_run : key => run.uri }
}

output "cloud_sql_connection_names" {
  description = "Connection name (project:region:instance) of each region's database, for the Cloud SQL connector."
  value       = { for key, sql in module.cloud_sql : key => sql.connection_name }
}

output "cloud_sql_private_ips" {
  description = "Private IP of each region's database. Marked sensitive: internal addresses stay out of CI logs."
  value       = { for key, sql in module.cloud_sql : key => sql.private_ip_address }
  sensitive   = true
}

output "service_account_email" {
  description = "Service account the Copilot API runs as."
  value       = google_service_account.copilot.email
}
