# A private, customer-key-encrypted, labelled bucket. What is secure is not configurable: uniform
# bucket-level access and public access prevention are always on.

resource "google_storage_bucket" "this" {
  name          = format("%s-%s", var.name_prefix, var.purpose)
  location      = var.location
  storage_class = var.storage_class
  force_destroy = var.force_destroy
  labels        = var.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  encryption {
    default_kms_key_name = var.kms_key_name
  }

  versioning {
    enabled = var.versioning
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_retention_days * 86400
  }
}

resource "google_storage_bucket_iam_member" "object_admins" {
  for_each = toset(var.object_admin_members)

  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectAdmin"
  member = each.value
}

resource "google_storage_bucket_iam_member" "object_viewers" {
  for_each = toset(var.object_viewer_members)

  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectViewer"
  member = each.value
}
