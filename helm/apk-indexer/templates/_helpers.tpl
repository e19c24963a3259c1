{{/*
The chart's name, or nameOverride.
*/}}
{{- define "apk-indexer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A fully qualified name for the release's objects: fullnameOverride, else the release name when it already
contains the chart's name (`helm install apk-indexer ...` gives Service apk-indexer), else release-chart.
Kubernetes names are at most 63 characters.
*/}}
{{- define "apk-indexer.fullname" -}}
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

{{/*
The chart label: name-version.
*/}}
{{- define "apk-indexer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object (app.kubernetes.io/*, helm.sh/chart).
*/}}
{{- define "apk-indexer.labels" -}}
helm.sh/chart: {{ include "apk-indexer.chart" . }}
{{ include "apk-indexer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: datasource
app.kubernetes.io/part-of: renovate
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: stable for the life of a release (a Deployment's selector cannot change).
*/}}
{{- define "apk-indexer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "apk-indexer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "apk-indexer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "apk-indexer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion).
*/}}
{{- define "apk-indexer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (toString (.Values.image.tag | default .Chart.AppVersion)) }}
{{- end }}
{{- end }}

{{/*
The ConfigMap key of a trusted public key's file name: ConfigMap keys allow only [-._a-zA-Z0-9], Alpine's key
names have an @ (alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub).
*/}}
{{- define "apk-indexer.keyEntry" -}}
{{- regexReplaceAll "[^-._a-zA-Z0-9]" . "_" }}
{{- end }}
