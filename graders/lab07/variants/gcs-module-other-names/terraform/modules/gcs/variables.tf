variable "name_prefix" {
  type        = string
  description = "Prefix of the bucket name, mfgcp-<environment>-<region_short> (the bucket is <prefix>-<purpose>)."

  validation {
    condition     = can(regex("^mfgcp-(staging|prod)-[a-z]+[0-9]*$", var.name_prefix))
    error_message = "name_prefix must follow mfgcp-<environment>-<region_short>, e.g. mfgcp-prod-euw4."
  }
}

variable "purpose" {
  type        = string
  description = "What the bucket holds (documents, embeddings ...); the last part of its name."

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.purpose))
    error_message = "purpose must be lowercase words joined by hyphens, e.g. documents."
  }
}

variable "region" {
  type        = string
  description = "Region of the bucket (a single region keeps the plant's data where its key is)."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west4."
  }
}

variable "storage_class" {
  type        = string
  description = "Default storage class of new objects."
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"], var.storage_class)
    error_message = "storage_class must be STANDARD, NEARLINE, COLDLINE or ARCHIVE."
  }
}

variable "encryption_key" {
  type        = string
  description = "Cloud KMS crypto key id, in the bucket's region, that encrypts every object (CMEK)."
}

variable "labels" {
  type        = map(string)
  description = "Cost-allocation labels; must include plant, environment, cost_center and owner."

  validation {
    condition     = alltrue([for key in ["plant", "environment", "cost_center", "owner"] : contains(keys(var.labels), key)])
    error_message = "labels must include plant, environment, cost_center and owner."
  }
}

variable "versioning" {
  type        = bool
  description = "Keep noncurrent versions of overwritten or deleted objects."
  default     = true
}

variable "noncurrent_version_retention_days" {
  type        = number
  description = "Days a noncurrent object version is kept before it is deleted."
  default     = 30
}

variable "soft_delete_retention_days" {
  type        = number
  description = "Days a deleted object can still be restored (0 turns soft delete off)."
  default     = 7
}

variable "force_destroy" {
  type        = bool
  description = "Let `terraform destroy` delete a bucket that still holds objects (staging only)."
  default     = false
}

variable "object_admin_members" {
  type        = list(string)
  description = "IAM members (serviceAccount:..., group:...) that read and write objects."
  default     = []

  validation {
    condition     = length(setintersection(var.object_admin_members, ["allUsers", "allAuthenticatedUsers"])) == 0
    error_message = "object_admin_members must not contain allUsers or allAuthenticatedUsers."
  }
}

variable "object_viewer_members" {
  type        = list(string)
  description = "IAM members that only read objects."
  default     = []

  validation {
    condition     = length(setintersection(var.object_viewer_members, ["allUsers", "allAuthenticatedUsers"])) == 0
    error_message = "object_viewer_members must not contain allUsers or allAuthenticatedUsers: the bucket is never public."
  }
}
