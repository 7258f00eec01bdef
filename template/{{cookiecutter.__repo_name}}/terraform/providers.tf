# One Google provider serves both regions: every regional resource names its own location, so
# the provider carries only the project. Credentials never appear here: locally they come from
# `gcloud auth application-default login`, in CI from Workload Identity Federation (OIDC).
provider "google" {
  project = var.project_id
}
