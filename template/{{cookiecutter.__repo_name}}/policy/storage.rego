# METADATA
# description: No public data. Buckets use uniform bucket-level access with public access
#   prevention enforced, and nothing (bucket, topic, service, key) is granted to allUsers or
#   allAuthenticatedUsers.
package main

import data.terraform
import rego.v1

public_members := {"allUsers", "allAuthenticatedUsers"}

# IAM members of any *_iam_member / *_iam_binding resource.
granted_members(resource) := {resource.values.member} if is_string(resource.values.member)

granted_members(resource) := {m | some m in resource.values.members} if is_array(resource.values.members)

deny contains msg if {
	some resource in terraform.resources
	some member in granted_members(resource)
	member in public_members
	msg := sprintf("%s: grants %s access; data and services of the Copilot are never public", [resource.address, member])
}

# A *_iam_policy resource carries its bindings as a JSON document.
deny contains msg if {
	some resource in terraform.resources
	endswith(resource.type, "_iam_policy")
	policy := resource.values.policy_data
	is_string(policy)
	some member in public_members
	contains(policy, member)
	msg := sprintf("%s: the IAM policy grants %s access; data and services of the Copilot are never public", [resource.address, member])
}

# A module called with a public member in any of its list arguments.
deny contains msg if {
	some call in terraform.module_calls
	some argument, value in call.arguments
	is_array(value)
	some member in value
	member in public_members
	msg := sprintf("%s: argument %s grants %s access; data and services of the Copilot are never public", [call.address, argument, member])
}

deny contains msg if {
	some resource in terraform.resources
	resource.type == "google_storage_bucket"
	not resource.values.uniform_bucket_level_access == true
	msg := sprintf("%s: set uniform_bucket_level_access = true (IAM only, no object ACLs)", [resource.address])
}

deny contains msg if {
	some resource in terraform.resources
	resource.type == "google_storage_bucket"
	not resource.values.public_access_prevention == "enforced"
	msg := sprintf("%s: set public_access_prevention = \"enforced\" so the bucket can never be made public", [resource.address])
}

warn contains msg if {
	some resource in terraform.resources
	resource.type == "google_storage_bucket"
	not terraform.block(resource.values, "versioning").enabled
	msg := sprintf("%s: versioning is off; an overwritten document cannot be recovered", [resource.address])
}
