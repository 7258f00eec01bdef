# terraform plan -var-file=environments/staging.tfvars
project_id  = "meridian-mfg-copilot"
environment = "staging"
plant_code  = "RVB01"
cost_center = "cc-4120-mfg-digital"
owner       = "copilot-platform"

regions = {
  emea = "europe-west4"
  apac = "asia-southeast1"
}
subnet_cidrs = {
  emea = "10.20.0.0/24"
  apac = "10.21.0.0/24"
}

# Staging can be torn down and rebuilt.
deletion_protection = false

container_image         = "europe-west4-docker.pkg.dev/meridian-mfg-copilot/copilot/api@sha256:0000000000000000000000000000000000000000000000000000000000000000"
cloud_run_cpu           = "1"
cloud_run_memory        = "2Gi"
cloud_run_min_instances = 0
cloud_run_max_instances = 3

sql_tier              = "db-custom-1-3840"
sql_disk_size_gb      = 20
sql_availability_type = "ZONAL"
