{{/* Names and labels shared by every template. */}}
{{- define "cloudmart.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cloudmart.fullname" -}}
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

{{- define "cloudmart.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cloudmart.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
component=backend is also the Prometheus `job` (ServiceMonitor jobLabel), so the
rules' job="backend" selectors hold in the cluster as they do in Compose.
*/}}
{{- define "cloudmart.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "cloudmart.selectorLabels" . }}
app.kubernetes.io/component: backend
app.kubernetes.io/version: {{ include "cloudmart.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "cloudmart.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "cloudmart.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cloudmart.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cloudmart.secretName" -}}
{{- default (include "cloudmart.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* preStop sleep + the service's own shutdown deadline + a margin. */}}
{{- define "cloudmart.terminationGracePeriodSeconds" -}}
{{- add .Values.shutdown.preStopSleepSeconds (div (add .Values.shutdown.timeoutMs 999) 1000) .Values.shutdown.marginSeconds }}
{{- end }}
