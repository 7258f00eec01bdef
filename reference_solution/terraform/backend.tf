# Remote state in Cloud Storage: one bucket for the project, one prefix per environment.
#
# Backend blocks cannot use variables, so the prefix comes from a partial configuration:
#   terraform init -backend-config=environments/staging.gcs.tfbackend
#   terraform init -reconfigure -backend-config=environments/prod.gcs.tfbackend
#
# The state bucket itself (versioned, uniform access, CMEK) is created once by the platform team,
# never by this configuration: a configuration must not manage the bucket that holds its own state.
# The GCS backend locks the state with a lock file next to it; no extra lock table is needed.
terraform {
  backend "gcs" {
    bucket = "meridian-mfg-copilot-tfstate"
  }
}
