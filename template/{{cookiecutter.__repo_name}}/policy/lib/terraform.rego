# METADATA
# description: |
#   One view of Terraform resources whatever conftest was given: a .tf file (conftest parses it
#   with hcl2json: blocks are lists, labels are nested maps) or the JSON of a saved plan
#   (`terraform show -json plan.out`). Policies iterate `terraform.resources` and stay shape-free.
package terraform

import rego.v1

# A .tf file: resource "<type>" "<name>" { ... } -> input.resource[type][name] == [body]
resources contains resource if {
	some rtype, named in input.resource
	some rname, bodies in named
	some body in bodies
	resource := {
		"address": sprintf("%s.%s", [rtype, rname]),
		"type": rtype,
		"values": body,
		"unknown": {},
	}
}

# A plan: every resource that will exist after the apply (created, updated or kept).
resources contains resource if {
	some change in input.resource_changes
	is_object(change.change.after)
	resource := {
		"address": change.address,
		"type": change.type,
		"values": change.change.after,
		"unknown": object.get(change.change, "after_unknown", {}),
	}
}

# Module calls of a .tf file: module "<name>" { ... } -> input.module[name] == [arguments]
module_calls contains call if {
	some name, bodies in input.module
	some body in bodies
	call := {"address": sprintf("module.%s", [name]), "arguments": body}
}

# Local values of a .tf file (each locals block is one entry).
local_values contains entry if {
	some locals_block in input.locals
	some name, value in locals_block
	entry := {"address": sprintf("local.%s", [name]), "name": name, "value": value}
}

# The environment being planned: a plan's variable, or a .tfvars file's own value.
environment := input.variables.environment.value

environment := input.environment if {
	not input.variables
	is_string(input.environment)
}

# hcl2json writes every expression that is not a literal as "${...}": its value is unknown here.
is_expression(value) if {
	is_string(value)
	contains(value, "${")
}

# True when the attribute is set: a known non-empty value, or a value only known after apply.
is_set(resource, key) if {
	value := resource.values[key]
	value != null
	value != ""
}

is_set(resource, key) if resource.unknown[key] == true

# The first block of a nested block list (encryption, settings ...), or {} when absent.
block(values, name) := values[name][0] if is_array(values[name])

block(values, name) := {} if not is_array(values[name])
