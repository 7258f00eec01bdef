resource "google_cloud_run_v2_service" "api" {
  name                = "mfgcp-prod-euw4-api"
  location            = "europe-west4"
  ingress             = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  deletion_protection = true

  labels = {
    plant       = "rvb01"
    environment = "prod"
    cost_center = "cc-4120-mfg-digital"
    owner       = "copilot-platform"
  }

  template {
    service_account = "mfgcp-prod-copilot-api@meridian-mfg-copilot.iam.gserviceaccount.com"

    containers {
      image = "europe-west4-docker.pkg.dev/meridian-mfg-copilot/copilot/api@sha256:0000000000000000000000000000000000000000000000000000000000000000"
    }
  }
}

resource "google_cloud_run_v2_service_iam_member" "plant_operators" {
  name     = "mfgcp-prod-euw4-api"
  location = "europe-west4"
  role     = "roles/run.invoker"
  member   = "allUsers"
}
