{{- define "rapid-rollback.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rapid-rollback.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rapid-rollback.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "rapid-rollback.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component (app or worker): pass (dict "root" $ "component" "app"). */}}
{{- define "rapid-rollback.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rapid-rollback.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "rapid-rollback.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rapid-rollback.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret every secret setting comes from; the chart stops here without one. */}}
{{- define "rapid-rollback.secretName" -}}
{{- required "existingSecret is required: create a Secret with the bot's tokens first (kubectl create secret generic rapid-rollback --from-literal=SLACK_BOT_TOKEN=xoxb-…, README \"Kubernetes (the Helm chart)\"), then set existingSecret to its name. The chart never takes a token as a value." .Values.existingSecret }}
{{- end }}

{{- define "rapid-rollback.rbacEnabled" -}}
{{- if not (has .Values.rbac.scope (list "none" "namespace" "cluster")) }}
{{- fail (printf "rbac.scope must be none, namespace or cluster (got %q)" (toString .Values.rbac.scope)) }}
{{- end }}
{{- if ne .Values.rbac.scope "none" }}true{{ end }}
{{- end }}
