package main

import rego.v1

cmek_denials(result) := {msg | some msg in result; contains(msg, "CMEK")}

test_bucket_without_key_denied if {
	some msg in deny with input as bucket_with({"encryption": []})
	contains(msg, "google_storage_bucket.docs: add encryption")
}

test_bucket_key_known_after_apply_passes if {
	plan := {"resource_changes": [{
		"address": "google_storage_bucket.docs",
		"type": "google_storage_bucket",
		"change": {
			"actions": ["create"],
			"after": object.union(secure_bucket, {"encryption": [{}]}),
			"after_unknown": {"encryption": [{"default_kms_key_name": true}]},
		},
	}]}
	count(cmek_denials(deny)) == 0 with input as plan
}

test_topic_and_instance_need_keys if {
	tf := {"resource": {
		"google_pubsub_topic": {"events": [{"name": "mfgcp-prod-euw4-events", "labels": complete}]},
		"google_sql_database_instance": {"db": [{"name": "mfgcp-prod-euw4-pg", "settings": [{"user_labels": complete, "ip_configuration": [{"ipv4_enabled": false}]}]}]},
	}}
	denials := cmek_denials(deny) with input as tf
	count(denials) == 2
}

test_key_from_a_variable_passes if {
	tf := {"resource": {"google_pubsub_topic": {"events": [{"name": "${var.name_prefix}-events", "labels": "${var.labels}", "kms_key_name": "${var.kms_key_name}"}]}}}
	count(deny) == 0 with input as tf
}
