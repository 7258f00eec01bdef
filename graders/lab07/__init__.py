"""Lab 07 grader: Terraform infrastructure as code, graded offline.

No cloud account and no provider download: the project is parsed into conftest's input shape
(:mod:`hcl`), the instructor's and the student's Rego policies run on it with conftest's
conventions (:mod:`rego`), checkov's curated Terraform checks run in process
(:mod:`checkov_scan`) and the committed cost estimate is recomputed (:mod:`cost`).
"""
