package main

import rego.v1

secure_bucket := {
	"name": "mfgcp-prod-euw4-documents",
	"labels": complete,
	"uniform_bucket_level_access": true,
	"public_access_prevention": "enforced",
	"encryption": [{"default_kms_key_name": "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k"}],
	"versioning": [{"enabled": true}],
}

bucket_with(overrides) := {"resource": {"google_storage_bucket": {"docs": [object.union(secure_bucket, overrides)]}}}

test_secure_bucket_passes if {
	count(deny) == 0 with input as bucket_with({})
	count(warn) == 0 with input as bucket_with({})
}

test_public_member_denied_in_both_shapes if {
	tf := {"resource": {"google_storage_bucket_iam_member": {"public": [{"bucket": "b", "role": "roles/storage.objectViewer", "member": "allUsers"}]}}}
	some msg in deny with input as tf
	contains(msg, "google_storage_bucket_iam_member.public: grants allUsers access")
	plan := {"resource_changes": [{
		"address": "google_storage_bucket_iam_binding.readers",
		"type": "google_storage_bucket_iam_binding",
		"change": {"actions": ["create"], "after": {"members": ["group:eng@example.com", "allAuthenticatedUsers"]}},
	}]}
	some plan_msg in deny with input as plan
	contains(plan_msg, "grants allAuthenticatedUsers access")
}

test_public_member_in_module_argument_denied if {
	some msg in deny with input as {"module": {"gcs": [{"object_viewer_members": ["allUsers"]}]}}
	contains(msg, "module.gcs: argument object_viewer_members grants allUsers access")
}

test_public_policy_document_denied if {
	tf := {"resource": {"google_storage_bucket_iam_policy": {"p": [{"policy_data": "{\"bindings\":[{\"members\":[\"allUsers\"]}]}"}]}}}
	some msg in deny with input as tf
	contains(msg, "IAM policy grants allUsers")
}

test_uniform_access_and_prevention_required if {
	some msg in deny with input as bucket_with({"uniform_bucket_level_access": false})
	contains(msg, "uniform_bucket_level_access")
	some other in deny with input as bucket_with({"public_access_prevention": "inherited"})
	contains(other, "public_access_prevention")
}

test_versioning_off_warned if {
	some msg in warn with input as bucket_with({"versioning": [{"enabled": false}]})
	contains(msg, "versioning is off")
}
