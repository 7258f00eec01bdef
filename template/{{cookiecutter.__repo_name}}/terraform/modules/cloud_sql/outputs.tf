output "instance_name" {
  description = "Name of the Cloud SQL instance."
  value       = google_sql_database_instance.this.name
}

output "connection_name" {
  description = "Connection name (project:region:instance) for the Cloud SQL connector."
  value       = google_sql_database_instance.this.connection_name
}

output "private_ip_address" {
  description = "The instance's private IP in the VPC."
  value       = google_sql_database_instance.this.private_ip_address
  sensitive   = true
}

output "database_name" {
  description = "Name of the Copilot's database."
  value       = google_sql_database.copilot.name
}

output "iam_user_names" {
  description = "Database user names of the IAM service accounts, in the order given."
  value       = [for email in var.iam_service_accounts : google_sql_user.iam[email].name]
}
