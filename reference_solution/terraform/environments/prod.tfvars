# terraform plan -var-file=environments/prod.tfvars
project_id  = "meridian-mfg-copilot"
environment = "prod"
plant_code  = "RVB01"
cost_center = "cc-4120-mfg-digital"
owner       = "copilot-platform"

regions = {
  emea = "europe-west4"
  apac = "asia-southeast1"
}
subnet_cidrs = {
  emea = "10.10.0.0/24"
  apac = "10.11.0.0/24"
}

deletion_protection = true

container_image         = "europe-west4-docker.pkg.dev/meridian-mfg-copilot/copilot/api@sha256:0000000000000000000000000000000000000000000000000000000000000000"
cloud_run_cpu           = "2"
cloud_run_memory        = "4Gi"
cloud_run_min_instances = 1
cloud_run_max_instances = 10

sql_tier              = "db-custom-2-7680"
sql_disk_size_gb      = 50
sql_availability_type = "REGIONAL"
