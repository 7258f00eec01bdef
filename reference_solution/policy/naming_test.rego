package main

import rego.v1

topic_tf(name) := {"resource": {"google_pubsub_topic": {"events": [{"name": name, "labels": complete, "kms_key_name": "k"}]}}}

topic_plan(name) := {"resource_changes": [{
	"address": "google_pubsub_topic.events",
	"type": "google_pubsub_topic",
	"change": {"actions": ["create"], "after": {"name": name, "labels": complete, "kms_key_name": "k"}, "after_unknown": {}},
}]}

naming_denials(result) := {msg | some msg in result; contains(msg, "convention")}

test_conventional_names_pass if {
	every name in ["mfgcp-prod-euw4-events", "mfgcp-staging-asse1-events-dlq", "mfgcp-prod-glb-vpc"] {
		count(naming_denials(deny)) == 0 with input as topic_tf(name)
		count(naming_denials(deny)) == 0 with input as topic_plan(name)
	}
}

test_unconventional_names_denied if {
	every name in ["rvb01-events", "mfgcp-dev-euw4-events", "mfgcp-prod-events", "MFGCP-prod-euw4-events"] {
		count(naming_denials(deny)) == 1 with input as topic_tf(name)
		count(naming_denials(deny)) == 1 with input as topic_plan(name)
	}
}

test_names_built_from_a_prefix_pass if {
	count(naming_denials(deny)) == 0 with input as topic_tf("${var.name_prefix}-events")
	count(naming_denials(deny)) == 0 with input as topic_tf("mfgcp-${var.environment}-${local.short}-events")
}

test_names_built_otherwise_denied if {
	some msg in deny with input as topic_tf("${var.team}-events")
	contains(msg, "must start with \"mfgcp-\"")
}

test_prefix_local_and_module_argument_checked if {
	some msg in deny with input as {"locals": [{"name_prefix": "copilot-${var.environment}"}]}
	contains(msg, "local.name_prefix")
	some call_msg in deny with input as {"module": {"pubsub": [{"name_prefix": "events-${var.environment}"}]}}
	contains(call_msg, "module.pubsub: name_prefix")
	count(naming_denials(deny)) == 0 with input as {"module": {"pubsub": [{"name_prefix": "${local.region_prefix[each.key]}"}]}}
}
