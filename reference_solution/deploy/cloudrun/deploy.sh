#!/usr/bin/env bash
# Deploy the Manufacturing Copilot to Cloud Run: service accounts, a no-traffic revision, canary steps,
# promotion and a one-command rollback. The runbook (docs/runbooks/deploy-cloud-run.md) says when to
# run which step and what decides promotion.
#
#   deploy/cloudrun/deploy.sh setup                  service accounts and least-privilege IAM (iam-roles.txt)
#   deploy/cloudrun/deploy.sh apply                  apply the service-*.yaml definitions as they are
#   deploy/cloudrun/deploy.sh deploy VERSION         new API revision of image VERSION, no traffic, tagged canary
#   deploy/cloudrun/deploy.sh canary VERSION [PCT..] shift traffic to the canary in steps (default: 5 25 50)
#   deploy/cloudrun/deploy.sh promote VERSION        100 % to VERSION, which becomes the stable tag
#   deploy/cloudrun/deploy.sh rollback [REVISION]    100 % back to the stable revision (or REVISION), at once
#   deploy/cloudrun/deploy.sh budget                 the monthly budget with its alert thresholds
#
# Settings come from the environment (defaults: the example plant's production). Nothing here stores
# state: the `stable` and `canary` tags on the service say which revision is which.
set -euo pipefail

PROJECT_ID="${PROJECT_ID:-meridian-mfg-copilot}"
REGION="${REGION:-europe-west4}"
ENVIRONMENT="${ENVIRONMENT:-prod}"
NAME_PREFIX="${NAME_PREFIX:-mfgcp-${ENVIRONMENT}-euw4}"
API_SERVICE="${API_SERVICE:-${NAME_PREFIX}-api}"
REGISTRY="${REGISTRY:-${REGION}-docker.pkg.dev/${PROJECT_ID}/copilot}"
# Canary analysis: how long each step bakes, and the 5xx share of the canary's requests that stops it.
CANARY_BAKE_S="${CANARY_BAKE_S:-600}"
MAX_ERROR_RATE_PCT="${MAX_ERROR_RATE_PCT:-1}"
MIN_CANARY_REQUESTS="${MIN_CANARY_REQUESTS:-50}"
# Budget: a monthly amount for the project, alerts at 50 %, 90 % and 100 % (and 100 % forecast).
BILLING_ACCOUNT="${BILLING_ACCOUNT:-}"
BUDGET_AMOUNT="${BUDGET_AMOUNT:-1500USD}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

service_account() { printf '%s-copilot-%s@%s.iam.gserviceaccount.com' "mfgcp-${ENVIRONMENT}" "$1" "${PROJECT_ID}"; }

# 1.4.0 -> v1-4-0: revision names allow only lowercase letters, digits and dashes.
revision_suffix() {
  [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION must look like 1.4.0, got '$1'"
  printf 'v%s' "${1//./-}"
}

gcloud_run() { gcloud run "$@" --project "${PROJECT_ID}" --region "${REGION}"; }

# -- service accounts and IAM -----------------------------------------------------------------------
# BEGIN SOLUTION lab06: create one service account per service and grant each line of iam-roles.txt on its scope
create_service_account() {
  local account="$1" email
  email="$(service_account "${account}")"
  if gcloud iam service-accounts describe "${email}" --project "${PROJECT_ID}" >/dev/null 2>&1; then
    log "service account ${email} exists"
    return
  fi
  gcloud iam service-accounts create "mfgcp-${ENVIRONMENT}-copilot-${account}" \
    --project "${PROJECT_ID}" \
    --display-name "Manufacturing Copilot ${account} (${ENVIRONMENT})"
}

grant() {
  local account="$1" scope="$2" role="$3" member
  member="serviceAccount:$(service_account "${account}")"
  case "${scope}" in
    project)
      gcloud projects add-iam-policy-binding "${PROJECT_ID}" --member "${member}" --role "${role}" \
        --condition None --quiet >/dev/null ;;
    bucket:*)
      gcloud storage buckets add-iam-policy-binding "gs://${scope#bucket:}" --member "${member}" --role "${role}" \
        --project "${PROJECT_ID}" >/dev/null ;;
    secret:*)
      gcloud secrets add-iam-policy-binding "${scope#secret:}" --member "${member}" --role "${role}" \
        --project "${PROJECT_ID}" >/dev/null ;;
    topic:*)
      gcloud pubsub topics add-iam-policy-binding "${scope#topic:}" --member "${member}" --role "${role}" \
        --project "${PROJECT_ID}" >/dev/null ;;
    subscription:*)
      gcloud pubsub subscriptions add-iam-policy-binding "${scope#subscription:}" --member "${member}" \
        --role "${role}" --project "${PROJECT_ID}" >/dev/null ;;
    *) die "iam-roles.txt: unknown scope '${scope}' (project, bucket:, secret:, topic:, subscription:)" ;;
  esac
  log "granted ${role} on ${scope} to ${member}"
}

setup() {
  create_service_account api
  create_service_account worker
  local account scope role _why
  while read -r account scope role _why; do
    [[ -z "${account}" || "${account}" == \#* ]] && continue
    case "${role}" in
      roles/owner | roles/editor | roles/viewer | *.admin) die "iam-roles.txt: ${role} is too broad for a runtime account" ;;
    esac
    grant "${account}" "${scope}" "${role}"
  done <"${HERE}/iam-roles.txt"
}
# STARTER
# setup() {
#   die "not written yet: create the service accounts and grant the roles of iam-roles.txt"
# }
# END SOLUTION

# -- releases ------------------------------------------------------------------------------------------
apply() {
  local file
  for file in "${HERE}"/service-*.yaml; do
    gcloud_run services replace "${file}"
  done
}

# The URL of a traffic tag: https://TAG---SERVICE-HASH-REGION.a.run.app
tag_url() {
  local url
  url="$(gcloud_run services describe "${API_SERVICE}" --format 'value(status.url)')"
  [[ -n "${url}" ]] || die "${API_SERVICE} has no URL yet"
  printf 'https://%s---%s' "$1" "${url#https://}"
}

smoke_test() {
  local url
  url="$(tag_url "$1")"
  log "smoke test against the $1 tag: ${url}"
  COPILOT_ID_TOKEN="${COPILOT_ID_TOKEN:-$(gcloud auth print-identity-token)}" \
    python3 "${REPO}/scripts/smoke_test.py" --base-url "${url}" ||
    die "the smoke test failed against the $1 tag: run '$0 rollback' if it had traffic"
}

# BEGIN SOLUTION lab06: deploy without traffic under the canary tag, shift traffic in steps, promote, and roll back in one command
deploy_revision() {
  local version="$1" suffix
  suffix="$(revision_suffix "${version}")"
  # --no-traffic: the revision starts and is smoke-tested at its tag URL while users stay on stable.
  gcloud_run deploy "${API_SERVICE}" \
    --image "${REGISTRY}/api:${version}" \
    --revision-suffix "${suffix}" \
    --service-account "$(service_account api)" \
    --no-traffic \
    --tag canary \
    --quiet
  smoke_test canary
}

# The canary's 5xx share over the bake window, from Cloud Run's request logs.
error_rate_ok() {
  local revision="$1" filter total errors
  filter="resource.type=\"cloud_run_revision\" AND resource.labels.revision_name=\"${revision}\" AND httpRequest.status>0"
  total="$(gcloud logging read "${filter}" --project "${PROJECT_ID}" --freshness "${CANARY_BAKE_S}s" \
    --limit 100000 --format 'value(httpRequest.status)' | wc -l)"
  errors="$(gcloud logging read "${filter} AND httpRequest.status>=500" --project "${PROJECT_ID}" \
    --freshness "${CANARY_BAKE_S}s" --limit 100000 --format 'value(httpRequest.status)' | wc -l)"
  log "canary ${revision}: ${errors} errors in ${total} requests (limit ${MAX_ERROR_RATE_PCT} %)"
  if ((total < MIN_CANARY_REQUESTS)); then
    log "too few requests to judge (${total} < ${MIN_CANARY_REQUESTS}): extend the bake time"
    return 1
  fi
  ((errors * 100 <= total * MAX_ERROR_RATE_PCT))
}

canary() {
  local version="$1" revision step
  shift
  revision="${API_SERVICE}-$(revision_suffix "${version}")"
  local steps=("$@")
  ((${#steps[@]})) || steps=(5 25 50)
  for step in "${steps[@]}"; do
    if ! [[ "${step}" =~ ^[0-9]+$ ]] || ((step < 1 || step > 99)); then
      die "canary steps are percentages 1-99, got '${step}'"
    fi
    log "canary step: ${step} % of traffic to ${revision}"
    gcloud_run services update-traffic "${API_SERVICE}" --to-tags "canary=${step}"
    smoke_test canary
    sleep "${CANARY_BAKE_S}"
    if ! error_rate_ok "${revision}"; then
      rollback
      die "canary ${revision} stopped at ${step} %: traffic is back on the stable revision"
    fi
  done
  log "canary ${revision} held at ${steps[-1]} %: run '$0 promote ${version}' to finish the release"
}

promote() {
  local revision
  revision="${API_SERVICE}-$(revision_suffix "$1")"
  gcloud_run services update-traffic "${API_SERVICE}" --to-revisions "${revision}=100" --update-tags "stable=${revision}"
  smoke_test stable
}

rollback() {
  # One command: all traffic to the revision tagged stable (or to the revision given), no rebuild.
  if (($#)); then
    gcloud_run services update-traffic "${API_SERVICE}" --to-revisions "$1=100"
  else
    gcloud_run services update-traffic "${API_SERVICE}" --to-tags "stable=100"
  fi
  log "rolled back: 100 % of ${API_SERVICE} on ${1:-the stable tag}"
}
# STARTER
# deploy_revision() { die "not written yet: deploy a revision with --no-traffic and --tag canary"; }
# canary() { die "not written yet: shift traffic to the canary tag in steps with update-traffic"; }
# promote() { die "not written yet: send 100 % to the new revision and move the stable tag"; }
# rollback() { die "not written yet: send 100 % back to the stable revision in one command"; }
# END SOLUTION

# -- cost --------------------------------------------------------------------------------------------
budget() {
  [[ -n "${BILLING_ACCOUNT}" ]] || die "set BILLING_ACCOUNT (gcloud billing accounts list)"
  gcloud billing budgets create \
    --billing-account "${BILLING_ACCOUNT}" \
    --display-name "copilot-${ENVIRONMENT}-monthly" \
    --budget-amount "${BUDGET_AMOUNT}" \
    --filter-projects "projects/${PROJECT_ID}" \
    --threshold-rule percent=0.5 \
    --threshold-rule percent=0.9 \
    --threshold-rule percent=1.0 \
    --threshold-rule percent=1.0,basis=forecasted-spend
}

usage() {
  sed -n '6,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

main() {
  (($#)) || usage
  local command="$1"
  shift
  case "${command}" in
    setup) setup ;;
    apply) apply ;;
    deploy) (($# == 1)) || usage; deploy_revision "$1" ;;
    canary) (($# >= 1)) || usage; canary "$@" ;;
    promote) (($# == 1)) || usage; promote "$1" ;;
    rollback) rollback "$@" ;;
    budget) budget ;;
    *) usage ;;
  esac
}

main "$@"
