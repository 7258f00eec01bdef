"""Headings of notebooks/lab05_cicd_quality_gates.ipynb that each check points students to."""

WORKFLOW = "GitHub Actions workflow"
MATRIX = "Matrix testing"
GOVERNANCE = "Branch protection and approvals"
OIDC = "Secrets management with GitHub OIDC"
EVIDENCE = "Evidence collection for audits"
LAB = "Lab: pull request checklist"
