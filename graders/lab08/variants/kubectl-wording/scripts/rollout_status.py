"""Judge a Deployment rollout from `kubectl get deployment -o json` and print what `kubectl rollout status` prints.

    kubectl get deployment copilot-api -o json | python scripts/rollout_status.py
    python scripts/rollout_status.py deployment.json
    python scripts/rollout_status.py --watch "kubectl get deployment copilot-api -o json"

Exit codes: 0 rolled out, 1 still rolling out, 2 failed (or the input is not a Deployment).
"""

import argparse
import json
import shlex
import subprocess
import sys
import time

DONE, WAITING, FAILED = 0, 1, 2


def status_of(deployment):
    """(exit code, kubectl's message) for one Deployment, following DeploymentStatusViewer.Status."""
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    name = meta.get("name", "")
    if (meta.get("generation") or 0) > (status.get("observedGeneration") or 0):
        return WAITING, "Waiting for deployment spec update to be observed..."
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return FAILED, f'error: deployment "{name}" exceeded its progress deadline'
    updated = status.get("updatedReplicas") or 0
    if spec.get("replicas") is not None and updated < spec["replicas"]:
        return WAITING, (
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {spec["replicas"]} new replicas '
            "have been updated..."
        )
    total = status.get("replicas") or 0
    if total > updated:
        return WAITING, (
            f'Waiting for deployment "{name}" rollout to finish: {total - updated} old replicas are pending '
            "termination..."
        )
    available = status.get("availableReplicas") or 0
    if available < updated:
        return WAITING, (
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated replicas are '
            "available..."
        )
    return DONE, f'deployment "{name}" successfully rolled out'


def stop(message):
    """Input that cannot be judged: say why, exit 2 like a failed rollout (never a traceback)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(FAILED)


def load(text):
    try:
        doc = json.loads(text)
    except ValueError as exc:
        stop(f"the input is not JSON: {exc}")
    if not isinstance(doc, dict):
        stop("expected a Deployment object")
    if doc.get("kind") == "Deployment":
        return [doc]
    if doc.get("kind") in ("List", "DeploymentList") and doc.get("items"):
        return doc["items"]
    stop(f"expected a Deployment or a List of them, not {doc.get('kind')!r}")


def judge(text):
    worst = DONE
    for deployment in load(text):
        code, message = status_of(deployment)
        print(message, file=sys.stderr if code == FAILED else sys.stdout, flush=True)
        worst = max(worst, code)
    return worst


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?")
    parser.add_argument("--watch")
    parser.add_argument("--interval", type=float, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if not args.watch:
        if args.file:
            with open(args.file) as handle:
                return judge(handle.read())
        return judge(sys.stdin.read())
    give_up = time.monotonic() + args.timeout
    while True:
        done = subprocess.run(shlex.split(args.watch), capture_output=True, text=True)
        if done.returncode:
            stop(f"{args.watch} failed: {done.stderr.strip()}")
        code = judge(done.stdout)
        if code != WAITING:
            return code
        if time.monotonic() + args.interval > give_up:
            print("error: timed out waiting for the condition", file=sys.stderr)
            return WAITING
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
