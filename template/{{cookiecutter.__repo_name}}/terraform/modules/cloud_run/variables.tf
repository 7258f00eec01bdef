variable "name_prefix" {
  type        = string
  description = "Prefix of the service name, mfgcp-<environment>-<region_short>."

  validation {
    condition     = can(regex("^mfgcp-(staging|prod)-[a-z]+[0-9]*$", var.name_prefix))
    error_message = "name_prefix must follow mfgcp-<environment>-<region_short>, e.g. mfgcp-prod-euw4."
  }
}

variable "service" {
  type        = string
  description = "Short name of the service (api, worker ...)."
}

variable "region" {
  type        = string
  description = "Region of the service."
}

variable "image" {
  type        = string
  description = "Container image, pinned by digest."
}

variable "service_account_email" {
  type        = string
  description = "Dedicated service account the service runs as (never the default compute account)."

  validation {
    condition     = !endswith(var.service_account_email, "-compute@developer.gserviceaccount.com")
    error_message = "Run the service as its own service account, not the default compute service account."
  }
}

variable "cpu" {
  type        = string
  description = "vCPUs per instance."
  default     = "1"
}

variable "memory" {
  type        = string
  description = "Memory per instance (e.g. 2Gi)."
  default     = "2Gi"
}

variable "min_instances" {
  type        = number
  description = "Instances kept warm."
  default     = 0
}

variable "max_instances" {
  type        = number
  description = "Upper bound on instances."
  default     = 10
}

variable "concurrency" {
  type        = number
  description = "Requests one instance handles at once."
  default     = 40
}

variable "ingress" {
  type        = string
  description = "Who may reach the service: internal traffic and the plants' HTTPS load balancer only, by default."
  default     = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_ALL"], var.ingress)
    error_message = "ingress must be one of INGRESS_TRAFFIC_INTERNAL_ONLY, INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER, INGRESS_TRAFFIC_ALL."
  }
}

variable "network" {
  type        = string
  description = "VPC for Direct VPC egress (to reach Cloud SQL's private IP)."
}

variable "subnetwork" {
  type        = string
  description = "Subnet in the service's region for Direct VPC egress."
}

variable "env" {
  type        = map(string)
  description = "Plain configuration passed as environment variables (never secrets)."
  default     = {}
}

variable "secret_env" {
  type        = map(string)
  description = "Environment variables read from Secret Manager: variable name -> secret id (latest version)."
  default     = {}
}

variable "invoker_members" {
  type        = list(string)
  description = "IAM members allowed to call the service."
  default     = []

  validation {
    condition     = length(setintersection(var.invoker_members, ["allUsers", "allAuthenticatedUsers"])) == 0
    error_message = "invoker_members must not contain allUsers or allAuthenticatedUsers: the Copilot is never public."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the service from Terraform."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Cost-allocation labels; must include plant, environment, cost_center and owner."

  validation {
    condition     = alltrue([for key in ["plant", "environment", "cost_center", "owner"] : contains(keys(var.labels), key)])
    error_message = "labels must include plant, environment, cost_center and owner."
  }
}
