package main

import rego.v1

private_settings := {
	"user_labels": complete,
	"ip_configuration": [{"ipv4_enabled": false, "private_network": "${var.private_network}", "ssl_mode": "ENCRYPTED_ONLY"}],
}

instance_tf(values) := {"resource": {"google_sql_database_instance": {"db": [object.union(
	{"name": "mfgcp-prod-euw4-pg", "encryption_key_name": "k", "settings": [private_settings]},
	values,
)]}}}

instance_plan(environment, values) := {
	"variables": {"environment": {"value": environment}},
	"resource_changes": [{
		"address": "module.cloud_sql[\"emea\"].google_sql_database_instance.this",
		"type": "google_sql_database_instance",
		"change": {"actions": ["create"], "after": object.union(
			{"name": "mfgcp-prod-euw4-pg", "encryption_key_name": "k", "deletion_protection": true, "settings": [private_settings]},
			values,
		)},
	}],
}

test_private_instance_passes if {
	count(deny) == 0 with input as instance_tf({})
	count(deny) == 0 with input as instance_plan("prod", {})
}

test_public_ip_denied if {
	public := [object.union(private_settings, {"ip_configuration": [{"ipv4_enabled": true}]})]
	some msg in deny with input as instance_tf({"settings": public})
	contains(msg, "ipv4_enabled = false")
}

test_missing_ip_configuration_denied if {
	some msg in deny with input as instance_tf({"settings": [{"user_labels": complete}]})
	contains(msg, "no public IP")
}

test_world_open_network_denied if {
	settings := [object.union(private_settings, {"ip_configuration": [{"ipv4_enabled": false, "authorized_networks": [{"name": "any", "value": "0.0.0.0/0"}]}]})]
	some msg in deny with input as instance_plan("staging", {"settings": settings})
	contains(msg, "opens the database to the whole internet")
}

test_deletion_protection_required_outside_staging if {
	some msg in deny with input as instance_plan("prod", {"deletion_protection": false})
	contains(msg, "deletion_protection is false")
	some tf_msg in deny with input as instance_tf({"deletion_protection": false})
	contains(tf_msg, "deletion_protection is false")
	count(deny) == 0 with input as instance_plan("staging", {"deletion_protection": false})
}

test_prod_variables_keep_deletion_protection if {
	some msg in deny with input as {"environment": "prod", "deletion_protection": false}
	contains(msg, "environment prod")
	count(deny) == 0 with input as {"environment": "staging", "deletion_protection": false}
	count(deny) == 0 with input as {"environment": "prod", "deletion_protection": true}
}
