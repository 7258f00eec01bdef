variable "project_id" {
  type        = string
  description = "GCP project that hosts the Manufacturing Copilot."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  type        = string
  description = "Deployment environment; part of every resource name and of the environment label."

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be \"staging\" or \"prod\"."
  }
}

variable "regions" {
  type        = map(string)
  description = "Regions to provision, keyed by the plants' geography (e.g. emea, apac); every regional module gets one instance per entry."

  validation {
    condition     = length(var.regions) >= 1 && alltrue([for location in values(var.regions) : can(regex("^[a-z]+-[a-z]+[0-9]+$", location))])
    error_message = "regions must map a key such as emea or apac to a GCP region such as europe-west4."
  }
}

variable "plant_code" {
  type        = string
  description = "Code of the capstone plant (e.g. RVB01); lowercased in the plant label."

  validation {
    condition     = can(regex("^[A-Z]{3}[0-9]{2}$", var.plant_code))
    error_message = "plant_code must be three capital letters and two digits, like RVB01."
  }
}

variable "cost_center" {
  type        = string
  description = "Finance cost center that pays for these resources (cost_center label)."

  validation {
    condition     = can(regex("^[a-z0-9_-]{1,63}$", var.cost_center))
    error_message = "cost_center must be a valid label value: 1-63 lowercase letters, digits, '_' or '-'."
  }
}

variable "owner" {
  type        = string
  description = "Team accountable for these resources (owner label)."

  validation {
    condition     = can(regex("^[a-z0-9_-]{1,63}$", var.owner))
    error_message = "owner must be a valid label value: 1-63 lowercase letters, digits, '_' or '-'."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Protect Cloud SQL instances, Cloud Run services and non-empty buckets from deletion. Always true in prod."
  default     = true

  validation {
    condition     = var.environment != "prod" || var.deletion_protection
    error_message = "deletion_protection cannot be turned off in prod."
  }
}

variable "subnet_cidrs" {
  type        = map(string)
  description = "Primary IPv4 range of the Copilot subnet in each region (same keys as regions)."

  validation {
    condition     = alltrue([for cidr in values(var.subnet_cidrs) : can(cidrhost(cidr, 0))])
    error_message = "subnet_cidrs values must be IPv4 CIDR ranges such as 10.10.0.0/24."
  }
}

variable "container_image" {
  type        = string
  description = "Copilot API image in Artifact Registry, pinned by digest (…@sha256:…) so a deployment is reproducible."

  validation {
    condition     = can(regex("@sha256:[a-f0-9]{64}$", var.container_image))
    error_message = "container_image must be pinned by digest: REGION-docker.pkg.dev/PROJECT/REPO/IMAGE@sha256:<64 hex>."
  }
}

variable "cloud_run_cpu" {
  type        = string
  description = "vCPUs per Cloud Run instance (\"1\", \"2\", \"4\" ...)."
  default     = "1"
}

variable "cloud_run_memory" {
  type        = string
  description = "Memory per Cloud Run instance, in Kubernetes quantity notation (e.g. 2Gi)."
  default     = "2Gi"
}

variable "cloud_run_min_instances" {
  type        = number
  description = "Instances kept warm in each region (the plants expect answers without a cold start)."
  default     = 1
}

variable "cloud_run_max_instances" {
  type        = number
  description = "Upper bound on instances in each region; caps the bill and the load on Cloud SQL."
  default     = 10
}

variable "sql_tier" {
  type        = string
  description = "Cloud SQL machine tier as db-custom-<vCPUs>-<memory MiB> (Enterprise edition)."

  validation {
    condition     = can(regex("^db-custom-[0-9]+-[0-9]+$", var.sql_tier))
    error_message = "sql_tier must look like db-custom-2-7680 (vCPUs, then memory in MiB)."
  }
}

variable "sql_disk_size_gb" {
  type        = number
  description = "Initial SSD size of each Cloud SQL instance, in GB (it grows automatically)."
  default     = 20
}

variable "sql_availability_type" {
  type        = string
  description = "ZONAL, or REGIONAL for a standby in a second zone (doubles the instance price)."
  default     = "ZONAL"

  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.sql_availability_type)
    error_message = "sql_availability_type must be ZONAL or REGIONAL."
  }
}

variable "documents_storage_class" {
  type        = string
  description = "Storage class of the documents buckets."
  default     = "STANDARD"
}
