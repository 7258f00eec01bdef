# Customer-managed encryption keys (CMEK): one key ring and one key per region, because Cloud SQL,
# Cloud Storage and Pub/Sub only accept a key from their own location. The Google-managed service
# agents of those products get encrypt/decrypt on the key, nothing more.

resource "google_kms_key_ring" "copilot" {
  for_each = var.regions

  name     = "${local.region_prefix[each.key]}-keyring"
  location = each.value

  depends_on = [google_project_service.apis]
}

resource "google_kms_crypto_key" "cmek" {
  for_each = var.regions

  name            = "${local.region_prefix[each.key]}-cmek"
  key_ring        = google_kms_key_ring.copilot[each.key].id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s" # 90 days
  labels          = local.labels

  # Destroying a key destroys every byte encrypted with it. Remove the key from state
  # (`terraform state rm`) when an environment is torn down on purpose.
  lifecycle {
    prevent_destroy = true
  }
}

data "google_storage_project_service_account" "storage_agent" {
  project = var.project_id
}

locals {
  # Service agents exist once the API is enabled; Cloud SQL's is created with
  # `gcloud beta services identity create --service=sqladmin.googleapis.com`.
  pubsub_agent         = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  cloud_sql_agent      = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-cloud-sql.iam.gserviceaccount.com"
  secret_manager_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-secretmanager.iam.gserviceaccount.com"
}

resource "google_kms_crypto_key_iam_member" "storage_agent" {
  for_each = var.regions

  crypto_key_id = google_kms_crypto_key.cmek[each.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = data.google_storage_project_service_account.storage_agent.member
}

resource "google_kms_crypto_key_iam_member" "pubsub_agent" {
  for_each = var.regions

  crypto_key_id = google_kms_crypto_key.cmek[each.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = local.pubsub_agent
}

resource "google_kms_crypto_key_iam_member" "cloud_sql_agent" {
  for_each = var.regions

  crypto_key_id = google_kms_crypto_key.cmek[each.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = local.cloud_sql_agent
}

resource "google_kms_crypto_key_iam_member" "secret_manager_agent" {
  for_each = var.regions

  crypto_key_id = google_kms_crypto_key.cmek[each.key].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = local.secret_manager_agent
}
