# METADATA
# description: Naming convention mfgcp-<environment>-<region_short>-<component>, e.g.
#   mfgcp-prod-euw4-documents. One pattern makes a resource's owner, environment and region
#   readable from its name in the console, in logs and on the bill.
package main

import data.terraform
import rego.v1

name_pattern := `^mfgcp-(staging|prod)-[a-z]+[0-9]*-[a-z0-9]+(-[a-z0-9]+)*$`

named_types := {
	"google_cloud_run_v2_service",
	"google_compute_network",
	"google_compute_subnetwork",
	"google_kms_crypto_key",
	"google_kms_key_ring",
	"google_pubsub_subscription",
	"google_pubsub_topic",
	"google_sql_database_instance",
	"google_storage_bucket",
}

# In a .tf file a name is often built from a prefix: it must start with the convention's
# literal "mfgcp-" or with a variable or local that holds the prefix (var.name_prefix ...).
follows_convention(name) if startswith(name, "mfgcp-")

follows_convention(name) if regex.match(`^\$\{(var|local)\.[a-z0-9_]*prefix`, name)

# TODO(lab07): deny names that break name_pattern (literal names) or do not follow_convention (built names,
#  name_prefix locals and module arguments)
