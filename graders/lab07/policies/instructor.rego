# METADATA
# description: |
#   The lab's own policies, kept in the grader: a student cannot edit them. They evaluate each
#   Terraform file in conftest's HCL2 input shape (and plans from `terraform show -json`) with
#   conftest's conventions (package main, deny/warn). Each message starts with the rule's topic
#   in brackets so that feedback can name what is wrong.
package main

import rego.v1

required_labels := {"cost_center", "environment", "owner", "plant"}

name_pattern := `^mfgcp-(staging|prod)-[a-z]+[0-9]*-[a-z0-9]+(-[a-z0-9]+)*$`

public_members := {"allUsers", "allAuthenticatedUsers"}

named_types := {
	"google_cloud_run_v2_service", "google_compute_network", "google_compute_subnetwork",
	"google_kms_crypto_key", "google_kms_key_ring", "google_pubsub_subscription",
	"google_pubsub_topic", "google_sql_database_instance", "google_storage_bucket",
}

labelled_types := {
	"google_cloud_run_v2_service", "google_kms_crypto_key", "google_pubsub_subscription",
	"google_pubsub_topic", "google_secret_manager_secret", "google_storage_bucket",
}

# -- one list of resources for both input shapes ---------------------------------------------
items contains {"address": sprintf("%s.%s", [t, n]), "type": t, "v": body, "u": {}} if {
	some t, named in input.resource
	some n, bodies in named
	some body in bodies
}

items contains {"address": rc.address, "type": rc.type, "v": rc.change.after, "u": object.get(rc.change, "after_unknown", {})} if {
	some rc in input.resource_changes
	is_object(rc.change.after)
}

calls contains {"address": sprintf("module.%s", [n]), "args": body} if {
	some n, bodies in input.module
	some body in bodies
}

env := input.variables.environment.value

env := input.environment if not input.variables

interpolated(x) if {
	is_string(x)
	contains(x, "${")
}

first(v, key) := v[key][0] if count(v[key]) > 0

first(v, key) := {} if not count(v[key]) > 0

given(item, key) if {
	value := item.v[key]
	not value in {null, ""}
}

given(item, key) if item.u[key] == true

# -- labels ----------------------------------------------------------------------------------------
labels_of(item) := item.v.labels if item.type in labelled_types

labels_of(item) := first(item.v, "settings").user_labels if item.type == "google_sql_database_instance"

labels_known_later(item) if item.u.labels == true

labels_known_later(item) if item.u.settings[0].user_labels == true

lacking(labels) := {k | some k in required_labels; object.get(labels, k, "") in {"", null}}

deny contains sprintf("[labels] %s has no labels: add %s", [item.address, concat(", ", sort(required_labels))]) if {
	some item in items
	item.type in (labelled_types | {"google_sql_database_instance"})
	labels_of(item) in {null, {}}
	not labels_known_later(item)
}

deny contains sprintf("[labels] %s has no labels: add %s", [item.address, concat(", ", sort(required_labels))]) if {
	some item in items
	item.type in (labelled_types | {"google_sql_database_instance"})
	not labels_of(item)
	not labels_known_later(item)
}

deny contains sprintf("[labels] %s: labels miss %s", [where, concat(", ", sort(missing))]) if {
	some where, labels in labelled_maps
	is_object(labels)
	count(labels) > 0
	missing := lacking(labels)
	count(missing) > 0
}

labelled_maps[address] := labels if {
	some item in items
	labels := labels_of(item)
	address := item.address
}

labelled_maps[sprintf("local.%s", [name])] := value if {
	some block in input.locals
	some name, value in block
	name in {"labels", "common_labels"}
}

labelled_maps[call.address] := call.args.labels if some call in calls

# -- naming ----------------------------------------------------------------------------------------
prefixed(name) if startswith(name, "mfgcp-")

prefixed(name) if regex.match(`^\$\{(var|local)\.[a-z0-9_]*prefix`, name)

deny contains sprintf("[naming] %s: %q does not follow mfgcp-<environment>-<region_short>-<component>", [item.address, item.v.name]) if {
	some item in items
	item.type in named_types
	is_string(item.v.name)
	not interpolated(item.v.name)
	not regex.match(name_pattern, item.v.name)
}

deny contains sprintf("[naming] %s: %q does not start with mfgcp- or a name prefix", [where, name]) if {
	some where, name in built_names
	interpolated(name)
	not prefixed(name)
}

deny contains sprintf("[naming] local.name_prefix: %q does not start with mfgcp-", [value]) if {
	some block in input.locals
	value := block.name_prefix
	not prefixed(value)
}

built_names[item.address] := item.v.name if {
	some item in items
	item.type in named_types
}

built_names[call.address] := call.args.name_prefix if some call in calls

# -- public access -------------------------------------------------------------------------------
deny contains sprintf("[public] %s grants access to %s", [where, value]) if {
	some where, doc in documents
	walk(doc, [_, value])
	value in public_members
}

documents[item.address] := item.v if some item in items

documents[call.address] := call.args if some call in calls

deny contains sprintf("[public] %s: uniform_bucket_level_access must be true", [item.address]) if {
	some item in items
	item.type == "google_storage_bucket"
	item.v.uniform_bucket_level_access != true
}

deny contains sprintf("[public] %s: uniform_bucket_level_access must be true", [item.address]) if {
	some item in items
	item.type == "google_storage_bucket"
	not "uniform_bucket_level_access" in object.keys(item.v)
}

deny contains sprintf("[public] %s: public_access_prevention must be \"enforced\"", [item.address]) if {
	some item in items
	item.type == "google_storage_bucket"
	object.get(item.v, "public_access_prevention", "") != "enforced"
}

# -- customer-managed keys ---------------------------------------------------------------------------
deny contains sprintf("[cmek] %s is not encrypted with a customer-managed key", [item.address]) if {
	some item in items
	item.type == "google_storage_bucket"
	object.get(first(item.v, "encryption"), "default_kms_key_name", "") in {"", null}
	not item.u.encryption[0].default_kms_key_name
}

deny contains sprintf("[cmek] %s is not encrypted with a customer-managed key", [item.address]) if {
	some item in items
	key := {"google_pubsub_topic": "kms_key_name", "google_sql_database_instance": "encryption_key_name"}[item.type]
	not given(item, key)
}

# -- Cloud SQL ---------------------------------------------------------------------------------------
ip_config(item) := first(first(item.v, "settings"), "ip_configuration")

deny contains sprintf("[cloud_sql] %s has a public IP: set ipv4_enabled = false", [item.address]) if {
	some item in items
	item.type == "google_sql_database_instance"
	object.get(ip_config(item), "ipv4_enabled", true) != false
}

deny contains sprintf("[cloud_sql] %s accepts connections from %s", [item.address, net.value]) if {
	some item in items
	item.type == "google_sql_database_instance"
	some net in object.get(ip_config(item), "authorized_networks", [])
	endswith(net.value, "/0")
}

deny contains sprintf("[deletion_protection] %s can be deleted", [item.address]) if {
	some item in items
	item.type == "google_sql_database_instance"
	item.v.deletion_protection == false
	env != "staging"
}

deny contains sprintf("[deletion_protection] %s can be deleted", [item.address]) if {
	some item in items
	item.type == "google_sql_database_instance"
	item.v.deletion_protection == false
	not env
}

deny contains "[deletion_protection] prod variables turn deletion_protection off" if {
	env == "prod"
	input.deletion_protection == false
}

# -- Pub/Sub -----------------------------------------------------------------------------------------
deny contains sprintf("[pubsub] %s has no dead_letter_policy: failed messages would be retried forever", [item.address]) if {
	some item in items
	item.type == "google_pubsub_subscription"
	not regex.match(`(dlq|dead.?letter)`, lower(sprintf("%v", [object.get(item.v, "topic", "")])))
	count(object.get(item.v, "dead_letter_policy", [])) == 0
	not item.u.dead_letter_policy
}
