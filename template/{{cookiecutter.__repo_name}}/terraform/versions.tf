# Versions of Terraform and of the providers this configuration is tested with. The root module
# pins with an upper bound (a new major version is an explicit upgrade, never a surprise on the
# next `terraform init`); the modules only state the minimum they need.
terraform {
  # 1.9 lets a variable's validation refer to other variables (see var.deletion_protection).
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.14"
    }
  }
}
