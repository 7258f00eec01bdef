# METADATA
# description: Cost allocation. Every resource that takes labels carries plant, environment,
#   cost_center and owner, so the monthly bill splits by plant and team without guesswork.
package main

import data.terraform
import rego.v1

required_labels := {"plant", "environment", "cost_center", "owner"}

# Resource types that take labels, and the attribute that holds them.
label_attribute := {
	"google_cloud_run_v2_service": "labels",
	"google_kms_crypto_key": "labels",
	"google_pubsub_subscription": "labels",
	"google_pubsub_topic": "labels",
	"google_secret_manager_secret": "labels",
	"google_storage_bucket": "labels",
}

resource_labels(resource) := resource.values[label_attribute[resource.type]]

resource_labels(resource) := terraform.block(resource.values, "settings").user_labels if {
	resource.type == "google_sql_database_instance"
}

labels_unknown(resource) if resource.unknown[label_attribute[resource.type]] == true

labels_unknown(resource) if {
	resource.type == "google_sql_database_instance"
	resource.unknown.settings[0].user_labels == true
}

labelled(resource) if label_attribute[resource.type]

labelled(resource) if resource.type == "google_sql_database_instance"

has_labels(resource) if {
	labels := resource_labels(resource)
	labels != null
}

has_labels(resource) if labels_unknown(resource)

missing_labels(labels) := {key |
	some key in required_labels
	not non_empty(labels, key)
}

non_empty(labels, key) if {
	value := labels[key]
	value != ""
	value != null
}

# TODO(lab07): deny resources without labels, and label maps that lack one of required_labels

# GCP label values: lowercase letters, digits, '_' and '-', at most 63 characters.
warn contains msg if {
	some resource in terraform.resources
	labels := resource_labels(resource)
	is_object(labels)
	some key, value in labels
	is_string(value)
	not terraform.is_expression(value)
	not regex.match(`^[a-z0-9_-]{0,63}$`, value)
	msg := sprintf("%s: label %s=%q is not a valid GCP label value (lowercase, digits, '_' or '-')", [resource.address, key, value])
}
