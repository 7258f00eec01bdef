# METADATA
# description: Cost allocation (Rego v0 syntax, conftest's classic `deny[msg]` style). Every resource
#   that takes labels carries plant, environment, cost_center and owner, each with a value.
package main

import data.terraform

required_labels := {"plant", "environment", "cost_center", "owner"}

label_attribute := {
	"google_cloud_run_v2_service": "labels",
	"google_kms_crypto_key": "labels",
	"google_pubsub_subscription": "labels",
	"google_pubsub_topic": "labels",
	"google_secret_manager_secret": "labels",
	"google_storage_bucket": "labels",
}

labels_of(resource) = labels {
	labels := resource.values[label_attribute[resource.type]]
}

labels_of(resource) = labels {
	resource.type == "google_sql_database_instance"
	labels := terraform.block(resource.values, "settings").user_labels
}

takes_labels(resource) {
	label_attribute[resource.type]
}

takes_labels(resource) {
	resource.type == "google_sql_database_instance"
}

known_later(resource) {
	resource.unknown[label_attribute[resource.type]] == true
}

known_later(resource) {
	resource.type == "google_sql_database_instance"
	resource.unknown.settings[0].user_labels == true
}

has_labels(resource) {
	labels_of(resource) != null
}

has_labels(resource) {
	known_later(resource)
}

# Missing or empty: "" and null are no label at all.
absent(labels) = {key | required_labels[key]; not filled(labels, key)}

filled(labels, key) {
	not labels[key] == ""
	not labels[key] == null
	labels[key]
}

deny[msg] {
	resource := terraform.resources[_]
	takes_labels(resource)
	not has_labels(resource)
	msg := sprintf("%s: no labels; set %s for cost allocation", [resource.address, concat(", ", sort(required_labels))])
}

deny[msg] {
	resource := terraform.resources[_]
	labels := labels_of(resource)
	is_object(labels)
	missing := absent(labels)
	count(missing) > 0
	msg := sprintf("%s: labels lack %s (required: %s)", [resource.address, concat(", ", sort(missing)), concat(", ", sort(required_labels))])
}

deny[msg] {
	entry := terraform.local_values[_]
	entry.name == "labels"
	is_object(entry.value)
	missing := absent(entry.value)
	count(missing) > 0
	msg := sprintf("%s: labels lack %s (required: %s)", [entry.address, concat(", ", sort(missing)), concat(", ", sort(required_labels))])
}

deny[msg] {
	entry := terraform.local_values[_]
	entry.name == "common_labels"
	is_object(entry.value)
	missing := absent(entry.value)
	count(missing) > 0
	msg := sprintf("%s: labels lack %s (required: %s)", [entry.address, concat(", ", sort(missing)), concat(", ", sort(required_labels))])
}

deny[msg] {
	call := terraform.module_calls[_]
	is_object(call.arguments.labels)
	missing := absent(call.arguments.labels)
	count(missing) > 0
	msg := sprintf("%s: labels lack %s (required: %s)", [call.address, concat(", ", sort(missing)), concat(", ", sort(required_labels))])
}

# GCP label values: lowercase letters, digits, '_' and '-', at most 63 characters.
warn[msg] {
	resource := terraform.resources[_]
	labels := labels_of(resource)
	is_object(labels)
	value := labels[key]
	is_string(value)
	not terraform.is_expression(value)
	not regex.match(`^[a-z0-9_-]{0,63}$`, value)
	msg := sprintf("%s: label %s=%q is not a valid GCP label value (lowercase, digits, '_' or '-')", [resource.address, key, value])
}
