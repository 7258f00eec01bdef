# METADATA
# description: Naming convention mfgcp-<environment>-<region_short>-<component>, e.g.
#   mfgcp-prod-euw4-documents. A name built in .tf is judged by what it is built from: a local
#   value of the same file is looked up first.
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

# "${local.x}" -> the value of local x when this file defines it; anything else as written.
expanded(name) := value if {
	[_, local_name] := regex.find_all_string_submatch_n(`^\$\{local\.([a-z0-9_]+)\}$`, name, 1)[0]
	some entry in terraform.local_values
	entry.name == local_name
	value := entry.value
}

expanded(name) := name if not regex.match(`^\$\{local\.[a-z0-9_]+\}$`, name)

expanded(name) := name if {
	regex.match(`^\$\{local\.[a-z0-9_]+\}$`, name)
	count([e | some e in terraform.local_values; sprintf("${local.%s}", [e.name]) == name]) == 0
}

starts_right(name) if startswith(name, "mfgcp-")

starts_right(name) if regex.match(`^\$\{(var|local)\.[a-z0-9_]*prefix`, name)

deny contains msg if {
	some resource in terraform.resources
	resource.type in named_types
	is_string(resource.values.name)
	name := expanded(resource.values.name)
	not terraform.is_expression(name)
	not regex.match(name_pattern, name)
	msg := sprintf("%s: name %q breaks the convention mfgcp-<environment>-<region_short>-<component>", [resource.address, name])
}

deny contains msg if {
	some resource in terraform.resources
	resource.type in named_types
	is_string(resource.values.name)
	name := expanded(resource.values.name)
	terraform.is_expression(name)
	not starts_right(name)
	msg := sprintf("%s: name %q must start with \"mfgcp-\" or a name_prefix variable", [resource.address, name])
}

deny contains msg if {
	some entry in terraform.local_values
	entry.name == "name_prefix"
	is_string(entry.value)
	not starts_right(entry.value)
	msg := sprintf("%s: %q must start with \"mfgcp-\"", [entry.address, entry.value])
}

deny contains msg if {
	some call in terraform.module_calls
	is_string(call.arguments.name_prefix)
	not starts_right(call.arguments.name_prefix)
	msg := sprintf("%s: name_prefix %q must start with \"mfgcp-\" or a prefix variable", [call.address, call.arguments.name_prefix])
}
