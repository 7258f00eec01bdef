resource "google_sql_database_instance" "copilot" {
  name                = "mfgcp-prod-euw4-pg"
  region              = "europe-west4"
  database_version    = "POSTGRES_16"
  encryption_key_name = "projects/meridian-mfg-copilot/locations/europe-west4/keyRings/mfgcp-prod-euw4-keyring/cryptoKeys/mfgcp-prod-euw4-cmek"
  deletion_protection = true

  settings {
    tier              = "db-custom-2-7680"
    availability_type = "REGIONAL"

    user_labels = {
      plant       = "rvb01"
      environment = "prod"
      cost_center = "cc-4120-mfg-digital"
      owner       = "copilot-platform"
    }

    ip_configuration {
      ipv4_enabled    = false
      private_network = "projects/meridian-mfg-copilot/global/networks/mfgcp-prod-glb-vpc"
      ssl_mode        = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }
  }
}
