"""Headings of labs/lab07/lab07_terraform_iac.ipynb that each check points students to."""

STRUCTURE = "Terraform project structure"
MODULES = "Reusable modules"
STATE = "State management with a GCS backend"
POLICY = "Policy as code with OPA/Conftest"
COST = "Drift detection workflow and cost"
CHECKLISTS = "Operational checklists"
LAB = "Lab: a skeleton Terraform module and its estimated cost"
