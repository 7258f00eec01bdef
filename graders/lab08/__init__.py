"""Lab 08 grader: Kubernetes manifests, Helm chart, blue/green deployment and the rollout status script."""
