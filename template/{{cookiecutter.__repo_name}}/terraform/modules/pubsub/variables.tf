variable "name_prefix" {
  type        = string
  description = "Prefix of every name, mfgcp-<environment>-<region_short>."

  validation {
    condition     = can(regex("^mfgcp-(staging|prod)-[a-z]+[0-9]*$", var.name_prefix))
    error_message = "name_prefix must follow mfgcp-<environment>-<region_short>, e.g. mfgcp-prod-euw4."
  }
}

variable "topic" {
  type        = string
  description = "Short name of the topic (events, analyses ...)."
}

variable "region" {
  type        = string
  description = "The only region where messages are stored (plant data stays in its region)."
}

variable "project_number" {
  type        = string
  description = "Project number, to name the Pub/Sub service agent that forwards dead letters."
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key (same region) that encrypts stored messages (CMEK)."
}

variable "labels" {
  type        = map(string)
  description = "Cost-allocation labels; must include plant, environment, cost_center and owner."

  validation {
    condition     = alltrue([for key in ["plant", "environment", "cost_center", "owner"] : contains(keys(var.labels), key)])
    error_message = "labels must include plant, environment, cost_center and owner."
  }
}

variable "message_retention" {
  type        = string
  description = "How long the topic and subscriptions keep messages (a duration such as 604800s)."
  default     = "604800s"
}

variable "ack_deadline_seconds" {
  type        = number
  description = "Seconds a subscriber has to acknowledge a message before it is redelivered."
  default     = 60
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries before a message goes to the dead-letter topic (5-100)."
  default     = 5

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "publisher_members" {
  type        = list(string)
  description = "IAM members allowed to publish to the topic."
  default     = []
}

variable "subscriber_members" {
  type        = list(string)
  description = "IAM members allowed to pull from the worker subscription."
  default     = []
}
