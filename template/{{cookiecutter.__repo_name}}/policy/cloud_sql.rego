# METADATA
# description: Cloud SQL is private and protected. No public IP (the provider's default is a
#   public IP, so ip_configuration must say ipv4_enabled = false), no network open to the world,
#   and in production the instance cannot be deleted.
package main

import data.terraform
import rego.v1

sql_instances contains resource if {
	some resource in terraform.resources
	resource.type == "google_sql_database_instance"
}

ip_configuration(resource) := terraform.block(terraform.block(resource.values, "settings"), "ip_configuration")

deny contains msg if {
	some resource in sql_instances
	not ip_configuration(resource).ipv4_enabled == false
	msg := sprintf("%s: set settings.ip_configuration.ipv4_enabled = false (no public IP; connect through the private network)", [resource.address])
}

deny contains msg if {
	some resource in sql_instances
	some network in ip_configuration(resource).authorized_networks
	network.value in {"0.0.0.0/0", "::/0"}
	msg := sprintf("%s: authorized network %s opens the database to the whole internet", [resource.address, network.value])
}

# A module or configuration must not switch deletion protection off in code...
deny contains msg if {
	some resource in sql_instances
	resource.values.deletion_protection == false
	not staging
	msg := sprintf("%s: deletion_protection is false; production data must not be deletable", [resource.address])
}

# Throw-away staging plans may switch it off (the prod variables may not, see below).
staging if terraform.environment == "staging"

# ...nor may the production variables.
deny contains msg if {
	terraform.environment == "prod"
	input.deletion_protection == false
	msg := "environment prod: deletion_protection = false; production data must not be deletable"
}

warn contains msg if {
	some resource in sql_instances
	not ip_configuration(resource).ssl_mode in {"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}
	msg := sprintf("%s: set ssl_mode so that connections are encrypted", [resource.address])
}
