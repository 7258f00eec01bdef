variable "name_prefix" {
  type        = string
  description = "Prefix of the instance name, mfgcp-<environment>-<region_short>."

  validation {
    condition     = can(regex("^mfgcp-(staging|prod)-[a-z]+[0-9]*$", var.name_prefix))
    error_message = "name_prefix must follow mfgcp-<environment>-<region_short>, e.g. mfgcp-prod-euw4."
  }
}

variable "region" {
  type        = string
  description = "Region of the instance."
}

variable "database_version" {
  type        = string
  description = "PostgreSQL major version of the instance."
  default     = "POSTGRES_16"

  validation {
    condition     = startswith(var.database_version, "POSTGRES_")
    error_message = "The Copilot's audit store and records need PostgreSQL (POSTGRES_<major>)."
  }
}

variable "tier" {
  type        = string
  description = "Machine tier, db-custom-<vCPUs>-<memory MiB> (Enterprise edition)."

  validation {
    condition     = can(regex("^db-custom-[0-9]+-[0-9]+$", var.tier))
    error_message = "tier must look like db-custom-2-7680."
  }
}

variable "availability_type" {
  type        = string
  description = "ZONAL, or REGIONAL for a synchronous standby in another zone."
  default     = "ZONAL"

  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.availability_type)
    error_message = "availability_type must be ZONAL or REGIONAL."
  }
}

variable "disk_size_gb" {
  type        = number
  description = "Initial SSD size in GB; the disk grows automatically."
  default     = 20
}

variable "private_network" {
  type        = string
  description = "VPC (id or self link) with private services access, where the instance gets its only IP."
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key (same region) that encrypts the disk and backups (CMEK)."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (in Terraform and in the API). Keep true outside throw-away environments."
  default     = true
}

variable "database_name" {
  type        = string
  description = "Name of the Copilot's database."
  default     = "copilot"
}

variable "iam_service_accounts" {
  type        = list(string)
  description = "Service account emails that log in with IAM database authentication (no passwords)."
  default     = []
}

variable "retained_backups" {
  type        = number
  description = "Number of daily backups kept."
  default     = 14
}

variable "labels" {
  type        = map(string)
  description = "Cost-allocation labels; must include plant, environment, cost_center and owner."

  validation {
    condition     = alltrue([for key in ["plant", "environment", "cost_center", "owner"] : contains(keys(var.labels), key)])
    error_message = "labels must include plant, environment, cost_center and owner."
  }
}
