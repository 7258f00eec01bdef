package main

import rego.v1

complete := {"plant": "rvb01", "environment": "prod", "cost_center": "cc-4120", "owner": "copilot-platform"}

bucket_tf(labels) := {"resource": {"google_storage_bucket": {"docs": [{"name": "mfgcp-prod-euw4-documents", "labels": labels}]}}}

bucket_plan(labels) := {"resource_changes": [{
	"address": "module.gcs[\"emea\"].google_storage_bucket.this",
	"type": "google_storage_bucket",
	"change": {"actions": ["create"], "after": {"name": "mfgcp-prod-euw4-documents", "labels": labels}, "after_unknown": {}},
}]}

label_denials(result) := {msg | some msg in result; contains(msg, "label")}

test_complete_labels_pass_in_both_shapes if {
	count(label_denials(deny)) == 0 with input as bucket_tf(complete)
	count(label_denials(deny)) == 0 with input as bucket_plan(complete)
}

test_missing_cost_center_denied_in_both_shapes if {
	partial := object.remove(complete, ["cost_center"])
	some msg in deny with input as bucket_tf(partial)
	contains(msg, "labels lack cost_center")
	some plan_msg in deny with input as bucket_plan(partial)
	contains(plan_msg, "module.gcs[\"emea\"].google_storage_bucket.this: labels lack cost_center")
}

test_resource_without_labels_denied if {
	some msg in deny with input as {"resource": {"google_pubsub_topic": {"events": [{"name": "mfgcp-prod-euw4-events"}]}}}
	contains(msg, "google_pubsub_topic.events: no labels")
}

test_null_labels_in_plan_denied if {
	some msg in deny with input as bucket_plan(null)
	contains(msg, "no labels")
}

test_labels_from_a_variable_pass_in_tf if {
	count(label_denials(deny)) == 0 with input as bucket_tf("${var.labels}")
}

test_labels_known_after_apply_pass if {
	plan := {"resource_changes": [{
		"address": "google_pubsub_topic.events",
		"type": "google_pubsub_topic",
		"change": {"actions": ["create"], "after": {"name": "mfgcp-prod-euw4-events"}, "after_unknown": {"labels": true}},
	}]}
	count(label_denials(deny)) == 0 with input as plan
}

test_cloud_sql_user_labels_checked if {
	tf := {"resource": {"google_sql_database_instance": {"db": [{"settings": [{"user_labels": {"plant": "rvb01"}}]}]}}}
	some msg in deny with input as tf
	contains(msg, "labels lack cost_center, environment, owner")
}

test_incomplete_locals_denied if {
	some msg in deny with input as {"locals": [{"labels": {"plant": "${lower(var.plant_code)}", "owner": "${var.owner}"}}]}
	contains(msg, "local.labels: labels lack cost_center, environment")
}

test_incomplete_module_labels_denied if {
	some msg in deny with input as {"module": {"gcs": [{"source": "./modules/gcs", "labels": {"plant": "rvb01"}}]}}
	contains(msg, "module.gcs: labels lack")
}

test_uppercase_label_value_warned if {
	some msg in warn with input as bucket_tf(object.union(complete, {"plant": "RVB01"}))
	contains(msg, "not a valid GCP label value")
}
