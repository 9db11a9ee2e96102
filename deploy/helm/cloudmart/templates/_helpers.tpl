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

{{/*
The in-chart OpenTelemetry Collector (values `collector`) runs when enabled and no
explicit otlp.endpoint sends the pods' traces elsewhere: "true" or "".
*/}}
{{- define "cloudmart.collector.enabled" -}}
{{- if and .Values.collector.enabled (not .Values.otlp.endpoint) }}true{{ end }}
{{- end }}

{{- define "cloudmart.collector.fullname" -}}
{{- printf "%s-otel-collector" (include "cloudmart.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Its own name label, so the backend's selectors (Deployment, Service, PDB, ServiceMonitor),
which match name and instance only, never select the collector's pods or Service.
component=otel-collector is its Prometheus `job`, as in Compose.
*/}}
{{- define "cloudmart.collector.selectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-otel-collector" (include "cloudmart.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cloudmart.collector.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "cloudmart.collector.selectorLabels" . }}
app.kubernetes.io/component: otel-collector
app.kubernetes.io/part-of: {{ include "cloudmart.name" . }}
app.kubernetes.io/version: {{ .Values.collector.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Where the pods send OTLP: an explicit otlp.endpoint wins, else the in-chart collector
(OTLP/HTTP, 4318, as the backend sends to its host's collector in Compose), else "" (tracing off).
*/}}
{{- define "cloudmart.otlpEndpoint" -}}
{{- if .Values.otlp.endpoint }}
{{- .Values.otlp.endpoint }}
{{- else if include "cloudmart.collector.enabled" . }}
{{- printf "http://%s:4318" (include "cloudmart.collector.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The collector's config files, as docker/otel-collector/ ships them (symlink files/otel-collector):
a list of [ConfigMap key, path under /etc/otelcol], in the order the collector merges them.
Fails on a choice the chart cannot run.
*/}}
{{- define "cloudmart.collector.files" -}}
{{- $c := .Values.collector }}
{{- if eq $c.export "aws" }}
{{- fail "collector.export=aws is Compose-only: export/aws.yaml scrapes the backend by Compose's DNS name `backend`. On EKS use AWS's ADOT collector, or point otlp.endpoint at one (docs/scale-out.md)" }}
{{- end }}
{{- range $kind, $name := dict "export" $c.export "sampling" $c.sampling }}
{{- if not ($.Files.Get (printf "files/otel-collector/%s/%s.yaml" $kind $name)) }}
{{- fail (printf "collector.%s=%s: docker/otel-collector/%s/ has no %s.yaml" $kind $name $kind $name) }}
{{- end }}
{{- end }}
{{- if and (eq $c.sampling "tail") (gt (int $c.replicaCount) 1) }}
{{- fail "collector.sampling=tail needs collector.replicaCount=1: tail sampling decides per trace, so every span of a trace must reach the same collector (docs/scale-out.md)" }}
{{- end }}
- [config.yaml, config.yaml]
- [{{ printf "export-%s.yaml" $c.export }}, {{ printf "export/%s.yaml" $c.export }}]
- [{{ printf "sampling-%s.yaml" $c.sampling }}, {{ printf "sampling/%s.yaml" $c.sampling }}]
{{- end }}
