resource "google_storage_bucket" "documents" {
  name                        = "mfgcp-prod-euw4-documents"
  location                    = "europe-west4"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  labels = {
    plant       = "rvb01"
    environment = "prod"
    cost_center = "cc-4120-mfg-digital"
    owner       = ""
  }

  encryption {
    default_kms_key_name = "projects/meridian-mfg-copilot/locations/europe-west4/keyRings/mfgcp-prod-euw4-keyring/cryptoKeys/mfgcp-prod-euw4-cmek"
  }

  versioning {
    enabled = true
  }
}

resource "google_storage_bucket_iam_member" "api_admin" {
  bucket = "mfgcp-prod-euw4-documents"
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:mfgcp-prod-copilot-api@meridian-mfg-copilot.iam.gserviceaccount.com"
}
