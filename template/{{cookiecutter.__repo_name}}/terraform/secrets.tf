# The API's token-signing key lives in Secret Manager, replicated to every region and encrypted
# there with the region's key. Terraform creates the secret, never its value: the first version
# is added out of band (`gcloud secrets versions add`), so the value never enters the state.

resource "google_secret_manager_secret" "jwt_signing_key" {
  secret_id = "${local.name_prefix}-glb-jwt-signing-key"
  labels    = local.labels

  replication {
    user_managed {
      dynamic "replicas" {
        for_each = var.regions
        content {
          location = replicas.value
          customer_managed_encryption {
            kms_key_name = google_kms_crypto_key.cmek[replicas.key].id
          }
        }
      }
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.secret_manager_agent]
}

resource "google_secret_manager_secret_iam_member" "copilot_jwt" {
  secret_id = google_secret_manager_secret.jwt_signing_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.copilot.email}"
}
