# A private, customer-key-encrypted, labelled bucket. What is secure is not configurable: uniform
# bucket-level access and public access prevention are always on.

resource "google_storage_bucket" "this" {
  name          = "${var.name_prefix}-${var.purpose}"
  location      = var.region
  storage_class = var.storage_class
  force_destroy = var.force_destroy
  labels        = merge(var.labels, { purpose = var.purpose })

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  encryption {
    default_kms_key_name = var.encryption_key
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

locals {
  # One grant per (role, member): admins read and write objects, viewers only read them.
  grants = merge(
    { for member in var.object_admin_members : "admin/${member}" => { role = "roles/storage.objectAdmin", member = member } },
    { for member in var.object_viewer_members : "viewer/${member}" => { role = "roles/storage.objectViewer", member = member } },
  )
}

resource "google_storage_bucket_iam_member" "members" {
  for_each = local.grants

  bucket = google_storage_bucket.this.name
  role   = each.value.role
  member = each.value.member
}
