{{/* Names: "copilot" for a release named copilot, so objects match k8s/base. */}}
{{- define "copilot.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries; "component" is api or worker. */}}
{{- define "copilot.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
app.kubernetes.io/part-of: manufacturing-copilot
plant: {{ .Values.plant.code }}
{{- end -}}

{{/* Extra labels on object metadata only (never in selectors): who manages the object. */}}
{{- define "copilot.managedBy" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "copilot.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The hardened container security context shared by API and worker. */}}
{{- define "copilot.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
capabilities:
  drop:
    - ALL
{{- end -}}

{{- define "copilot.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "copilot.env" -}}
- name: COPILOT_ENV
  value: {{ .Values.environment }}
- name: COPILOT_QUEUE_BACKEND
  value: pubsub
- name: GOOGLE_CLOUD_PROJECT
  value: {{ .Values.gcp.projectId }}
{{- end -}}

{{- define "copilot.secretsMount" -}}
- name: secrets
  mountPath: /run/secrets
  readOnly: true
{{- end -}}

{{- define "copilot.volumes" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 256Mi
- name: secrets
  secret:
    secretName: {{ .Values.secretName }}
    defaultMode: 288
{{- end -}}
