# METADATA
# description: Naming convention mfgcp-<environment>-<region_short>-<component> (Rego v0 syntax).
package main

import data.terraform

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

# A built name must start with the literal prefix or with a variable/local that holds the prefix.
follows_convention(name) {
	startswith(name, "mfgcp-")
}

follows_convention(name) {
	regex.match(`^\$\{(var|local)\.[a-z0-9_]*prefix`, name)
}

named(resource) = name {
	named_types[resource.type]
	name := resource.values.name
	is_string(name)
}

deny[msg] {
	resource := terraform.resources[_]
	name := named(resource)
	not terraform.is_expression(name)
	not regex.match(name_pattern, name)
	msg := sprintf("%s: name %q breaks the convention mfgcp-<environment>-<region_short>-<component>", [resource.address, name])
}

deny[msg] {
	resource := terraform.resources[_]
	name := named(resource)
	terraform.is_expression(name)
	not follows_convention(name)
	msg := sprintf("%s: name %q must start with \"mfgcp-\" or a name_prefix variable (convention mfgcp-<environment>-<region_short>-<component>)", [resource.address, name])
}

deny[msg] {
	entry := terraform.local_values[_]
	entry.name == "name_prefix"
	is_string(entry.value)
	not follows_convention(entry.value)
	msg := sprintf("%s: %q must start with \"mfgcp-\" (convention mfgcp-<environment>-<region_short>-<component>)", [entry.address, entry.value])
}

deny[msg] {
	call := terraform.module_calls[_]
	prefix := call.arguments.name_prefix
	is_string(prefix)
	not follows_convention(prefix)
	msg := sprintf("%s: name_prefix %q must start with \"mfgcp-\" or a prefix variable (convention mfgcp-<environment>-<region_short>-<component>)", [call.address, prefix])
}
