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

# format("%s-...", var.name_prefix, ...) puts the prefix first too.
follows_convention(name) if regex.match(`^\$\{format\("%s-[^"]*",\s*(var|local)\.[a-z0-9_]*prefix`, name)

# A literal name (a plan, or a .tf file without interpolation) must match the whole pattern.
deny contains msg if {
	some resource in terraform.resources
	resource.type in named_types
	name := resource.values.name
	is_string(name)
	not terraform.is_expression(name)
	not regex.match(name_pattern, name)
	msg := sprintf("%s: name %q breaks the convention mfgcp-<environment>-<region_short>-<component>", [resource.address, name])
}

deny contains msg if {
	some resource in terraform.resources
	resource.type in named_types
	name := resource.values.name
	terraform.is_expression(name)
	not follows_convention(name)
	msg := sprintf("%s: name %q must start with \"mfgcp-\" or a name_prefix variable (convention mfgcp-<environment>-<region_short>-<component>)", [resource.address, name])
}

# The prefixes that names are built from.
deny contains msg if {
	some entry in terraform.local_values
	entry.name == "name_prefix"
	is_string(entry.value)
	not follows_convention(entry.value)
	msg := sprintf("%s: %q must start with \"mfgcp-\" (convention mfgcp-<environment>-<region_short>-<component>)", [entry.address, entry.value])
}

deny contains msg if {
	some call in terraform.module_calls
	prefix := call.arguments.name_prefix
	is_string(prefix)
	not follows_convention(prefix)
	msg := sprintf("%s: name_prefix %q must start with \"mfgcp-\" or a prefix variable (convention mfgcp-<environment>-<region_short>-<component>)", [call.address, prefix])
}
