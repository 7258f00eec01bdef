# METADATA
# description: Customer-managed encryption keys (CMEK) for everything that stores plant data:
#   buckets, Pub/Sub topics and Cloud SQL instances are encrypted with a Cloud KMS key the
#   company controls (and can revoke), not only with Google-managed keys.
package main

import data.terraform
import rego.v1

deny contains msg if {
	some resource in terraform.resources
	resource.type == "google_storage_bucket"
	not bucket_key_set(resource)
	msg := sprintf("%s: add encryption { default_kms_key_name = ... } (CMEK)", [resource.address])
}

deny contains msg if {
	some resource in terraform.resources
	resource.type == "google_pubsub_topic"
	not terraform.is_set(resource, "kms_key_name")
	msg := sprintf("%s: set kms_key_name (CMEK) on the topic", [resource.address])
}

deny contains msg if {
	some resource in terraform.resources
	resource.type == "google_sql_database_instance"
	not terraform.is_set(resource, "encryption_key_name")
	msg := sprintf("%s: set encryption_key_name (CMEK) on the instance", [resource.address])
}

bucket_key_set(resource) if {
	key := terraform.block(resource.values, "encryption").default_kms_key_name
	key != null
	key != ""
}

bucket_key_set(resource) if resource.unknown.encryption[0].default_kms_key_name == true
