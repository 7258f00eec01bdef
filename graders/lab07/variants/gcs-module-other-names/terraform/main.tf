# The Manufacturing Copilot's infrastructure for one environment, in every region of var.regions:
# a documents bucket, an event topic with its dead-letter topic, a private PostgreSQL instance and
# the Copilot API on Cloud Run, all encrypted with the region's own key (kms.tf) and wired to one
# private network (network.tf).

locals {
  # Naming convention: mfgcp-<environment>-<region_short>-<component>, e.g. mfgcp-prod-euw4-documents.
  name_prefix = "mfgcp-${var.environment}"

  # europe-west4 -> euw4, asia-southeast1 -> asse1: continent, direction, number.
  continent_codes = {
    africa       = "af"
    asia         = "as"
    australia    = "au"
    europe       = "eu"
    me           = "me"
    northamerica = "na"
    southamerica = "sa"
    us           = "us"
  }
  direction_codes = {
    central   = "c"
    east      = "e"
    north     = "n"
    northeast = "ne"
    northwest = "nw"
    south     = "s"
    southeast = "se"
    southwest = "sw"
    west      = "w"
  }
  region_short = {
    for key, location in var.regions : key => format(
      "%s%s%s",
      local.continent_codes[split("-", location)[0]],
      local.direction_codes[regex("^[a-z]+", split("-", location)[1])],
      regex("[0-9]+$", location),
    )
  }
  region_prefix = { for key, short in local.region_short : key => "${local.name_prefix}-${short}" }

  # Cost-allocation labels on every resource that takes labels (policy/labels.rego enforces them).
  labels = {
    plant       = lower(var.plant_code)
    environment = var.environment
    cost_center = var.cost_center
    owner       = var.owner
    managed_by  = "terraform"
  }

  apis = [
    "cloudkms.googleapis.com",
    "compute.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ]
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_project_service" "apis" {
  for_each = toset(local.apis)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "gcs" {
  source   = "./modules/gcs"
  for_each = var.regions

  name_prefix          = local.region_prefix[each.key]
  purpose              = "documents"
  region               = each.value
  storage_class        = var.documents_storage_class
  encryption_key       = google_kms_crypto_key.cmek[each.key].id
  labels               = local.labels
  force_destroy        = !var.deletion_protection
  object_admin_members = ["serviceAccount:${google_service_account.copilot.email}"]

  depends_on = [google_kms_crypto_key_iam_member.storage_agent]
}

module "pubsub" {
  source   = "./modules/pubsub"
  for_each = var.regions

  name_prefix        = local.region_prefix[each.key]
  topic              = "events"
  region             = each.value
  project_number     = data.google_project.this.number
  kms_key_name       = google_kms_crypto_key.cmek[each.key].id
  labels             = local.labels
  publisher_members  = ["serviceAccount:${google_service_account.copilot.email}"]
  subscriber_members = ["serviceAccount:${google_service_account.copilot.email}"]

  depends_on = [google_kms_crypto_key_iam_member.pubsub_agent]
}

module "cloud_sql" {
  source   = "./modules/cloud_sql"
  for_each = var.regions

  name_prefix          = local.region_prefix[each.key]
  region               = each.value
  tier                 = var.sql_tier
  disk_size_gb         = var.sql_disk_size_gb
  availability_type    = var.sql_availability_type
  private_network      = google_compute_network.copilot.id
  kms_key_name         = google_kms_crypto_key.cmek[each.key].id
  deletion_protection  = var.deletion_protection
  labels               = local.labels
  iam_service_accounts = [google_service_account.copilot.email]

  depends_on = [
    google_service_networking_connection.private_services,
    google_kms_crypto_key_iam_member.cloud_sql_agent,
  ]
}

module "cloud_run" {
  source   = "./modules/cloud_run"
  for_each = var.regions

  name_prefix           = local.region_prefix[each.key]
  service               = "api"
  region                = each.value
  image                 = var.container_image
  service_account_email = google_service_account.copilot.email
  cpu                   = var.cloud_run_cpu
  memory                = var.cloud_run_memory
  min_instances         = var.cloud_run_min_instances
  max_instances         = var.cloud_run_max_instances
  network               = google_compute_network.copilot.id
  subnetwork            = google_compute_subnetwork.copilot[each.key].id
  deletion_protection   = var.deletion_protection
  labels                = local.labels

  env = {
    COPILOT_ENV         = var.environment
    COPILOT_PLANT       = var.plant_code
    GCP_PROJECT         = var.project_id
    CLOUDSQL_INSTANCE   = module.cloud_sql[each.key].connection_name
    CLOUDSQL_DATABASE   = module.cloud_sql[each.key].database_name
    CLOUDSQL_IAM_USER   = module.cloud_sql[each.key].iam_user_names[0]
    EVENTS_TOPIC        = module.pubsub[each.key].topic_id
    EVENTS_SUBSCRIPTION = module.pubsub[each.key].subscription_id
    DOCUMENTS_BUCKET    = module.gcs[each.key].name
  }
  secret_env = {
    COPILOT_JWT_SECRET = google_secret_manager_secret.jwt_signing_key.id
  }

  depends_on = [google_secret_manager_secret_iam_member.copilot_jwt]
}
