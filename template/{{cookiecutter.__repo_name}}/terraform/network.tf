# One private VPC for the environment, with a subnet per region. Cloud Run reaches Cloud SQL over
# Direct VPC egress; Cloud SQL has no public IP and is reached through private services access.

resource "google_compute_network" "copilot" {
  name                    = "${local.name_prefix}-glb-vpc"
  auto_create_subnetworks = false
  routing_mode            = "GLOBAL"

  depends_on = [google_project_service.apis]
}

resource "google_compute_subnetwork" "copilot" {
  for_each = var.regions

  name                     = "${local.region_prefix[each.key]}-subnet"
  region                   = each.value
  network                  = google_compute_network.copilot.id
  ip_cidr_range            = var.subnet_cidrs[each.key]
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Private services access: a reserved range peered with Google's service producer network, where
# Cloud SQL places the instances' private IPs.
resource "google_compute_global_address" "private_services" {
  name          = "${local.name_prefix}-glb-psa"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = 20
  network       = google_compute_network.copilot.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.copilot.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}

# Nothing may reach the VPC from outside: Cloud Run egresses into it, Cloud SQL sits behind private
# services access, and no VM listens. An explicit deny (with logging) documents that and overrides
# any allow rule added by hand later at a lower priority.
resource "google_compute_firewall" "deny_ingress" {
  name      = "${local.name_prefix}-glb-deny-ingress"
  network   = google_compute_network.copilot.id
  direction = "INGRESS"
  priority  = 65000

  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
