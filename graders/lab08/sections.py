"""Headings of notebook 08 (labs/lab08/lab08_kubernetes_autoscaling.py) that each check points students to."""

MANIFESTS = "Kubernetes manifests"
HELM = "Helm chart"
AUTOSCALING = "Autoscaling strategies"
MESH = "Service mesh and zero trust"
LAB = "Lab: blue/green deployment and a simulated rollout status check"
