{{/* Names ------------------------------------------------------------------------------------- */}}

{{- define "dfs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dfs.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dfs.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dfs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dfs.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels: dfs.labels / dfs.selectorLabels take (dict "root" $ "component" "api") */}}
{{- define "dfs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dfs.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "dfs.labels" -}}
helm.sh/chart: {{ include "dfs.chart" .root }}
{{ include "dfs.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: deepfakestream
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Images: (dict "root" $ "image" .Values.images.api) */}}
{{- define "dfs.image" -}}
{{- $tag := .image.tag | default .root.Values.images.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}

{{/* External or in-cluster services ------------------------------------------------------------ */}}

{{- define "dfs.databaseSecretName" -}}
{{- if and .Values.database.existingSecret (not .Values.postgresql.enabled) -}}
{{- .Values.database.existingSecret -}}
{{- else -}}
{{- printf "%s-database" (include "dfs.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "dfs.databaseSecretKey" -}}
{{- if and .Values.database.existingSecret (not .Values.postgresql.enabled) -}}
{{- .Values.database.existingSecretKey -}}
{{- else -}}
database-url
{{- end -}}
{{- end -}}

{{/* The database URL the chart stores (not used with database.existingSecret). */}}
{{- define "dfs.databaseUrl" -}}
{{- if .Values.postgresql.enabled -}}
{{- $pw := required "postgresql.password is required when postgresql.enabled" .Values.postgresql.password -}}
{{- printf "postgresql+psycopg2://%s:%s@%s-postgresql:5432/%s" .Values.postgresql.username (urlquery $pw) (include "dfs.fullname" .) .Values.postgresql.database -}}
{{- else -}}
{{- required "set database.url or database.existingSecret (or postgresql.enabled for an in-cluster database)" .Values.database.url -}}
{{- end -}}
{{- end -}}

{{- define "dfs.brokerHost" -}}
{{- if .Values.redis.enabled -}}
{{- printf "%s-redis" (include "dfs.fullname" .) -}}
{{- else -}}
{{- required "set broker.host (or redis.enabled for an in-cluster Redis)" .Values.broker.host -}}
{{- end -}}
{{- end -}}

{{- define "dfs.brokerAddress" -}}
{{- printf "%s:%d" (include "dfs.brokerHost" .) (int .Values.broker.port) -}}
{{- end -}}

{{- define "dfs.brokerHasPassword" -}}
{{- if and (not .Values.redis.enabled) (or .Values.broker.password .Values.broker.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "dfs.brokerSecretName" -}}
{{- .Values.broker.existingSecret | default (printf "%s-broker" (include "dfs.fullname" .)) -}}
{{- end -}}

{{- define "dfs.brokerSecretKey" -}}
{{- if .Values.broker.existingSecret -}}{{ .Values.broker.existingSecretKey }}{{- else -}}redis-password{{- end -}}
{{- end -}}

{{- define "dfs.brokerTls" -}}
{{- if and .Values.broker.tls (not .Values.redis.enabled) -}}true{{- end -}}
{{- end -}}

{{/* DFS_BROKER_URL; the password comes from $(REDIS_PASSWORD), defined just before it. */}}
{{- define "dfs.brokerUrl" -}}
{{- $scheme := ternary "rediss" "redis" (eq (include "dfs.brokerTls" .) "true") -}}
{{- $auth := ternary ":$(REDIS_PASSWORD)@" "" (eq (include "dfs.brokerHasPassword" .) "true") -}}
{{- printf "%s://%s%s/%d" $scheme $auth (include "dfs.brokerAddress" .) (int .Values.broker.database) -}}
{{- end -}}

{{- define "dfs.storageEndpoint" -}}
{{- if .Values.minio.enabled -}}
{{- printf "%s-minio:9000" (include "dfs.fullname" .) -}}
{{- else -}}
{{- required "set storage.endpoint (or minio.enabled for an in-cluster MinIO)" .Values.storage.endpoint -}}
{{- end -}}
{{- end -}}

{{- define "dfs.hasStorageKeys" -}}
{{- if or .Values.minio.enabled .Values.storage.existingSecret .Values.storage.accessKey -}}true{{- end -}}
{{- end -}}

{{- define "dfs.storageSecretName" -}}
{{- if and .Values.storage.existingSecret (not .Values.minio.enabled) -}}
{{- .Values.storage.existingSecret -}}
{{- else -}}
{{- printf "%s-storage" (include "dfs.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "dfs.storageAccessKeyKey" -}}
{{- if and .Values.storage.existingSecret (not .Values.minio.enabled) -}}{{ .Values.storage.existingSecretAccessKeyKey }}{{- else -}}access-key{{- end -}}
{{- end -}}

{{- define "dfs.storageSecretKeyKey" -}}
{{- if and .Values.storage.existingSecret (not .Values.minio.enabled) -}}{{ .Values.storage.existingSecretSecretKeyKey }}{{- else -}}secret-key{{- end -}}
{{- end -}}

{{- define "dfs.webhookSecretName" -}}
{{- .Values.webhookSecrets.existingSecret | default (printf "%s-webhooks" (include "dfs.fullname" .)) -}}
{{- end -}}

{{- define "dfs.hasWebhookSecret" -}}
{{- if or .Values.webhookSecrets.existingSecret .Values.webhookSecrets.env -}}true{{- end -}}
{{- end -}}

{{/* Pod pieces ----------------------------------------------------------------------------------- */}}

{{/* Environment of every DeepfakeStream container: config, then secrets. */}}
{{- define "dfs.envFrom" -}}
- configMapRef:
    name: {{ include "dfs.fullname" . }}-config
{{- if eq (include "dfs.hasWebhookSecret" .) "true" }}
- secretRef:
    name: {{ include "dfs.webhookSecretName" . }}
{{- end }}
{{- end -}}

{{- define "dfs.env" -}}
- name: DFS_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "dfs.databaseSecretName" . }}
      key: {{ include "dfs.databaseSecretKey" . }}
{{- if eq (include "dfs.brokerHasPassword" .) "true" }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "dfs.brokerSecretName" . }}
      key: {{ include "dfs.brokerSecretKey" . }}
{{- end }}
- name: DFS_BROKER_URL
  value: {{ include "dfs.brokerUrl" . | quote }}
{{- if eq (include "dfs.hasStorageKeys" .) "true" }}
- name: DFS_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "dfs.storageSecretName" . }}
      key: {{ include "dfs.storageAccessKeyKey" . }}
- name: DFS_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "dfs.storageSecretName" . }}
      key: {{ include "dfs.storageSecretKeyKey" . }}
{{- end }}
{{- end -}}

{{/* Writable paths under a read-only root filesystem. */}}
{{- define "dfs.volumes" -}}
- name: tmp
  emptyDir: {}
- name: data
  emptyDir: {}
{{- if .Values.model.persistence.existingClaim }}
- name: models
  persistentVolumeClaim:
    claimName: {{ .Values.model.persistence.existingClaim }}
    readOnly: true
{{- end }}
{{- end -}}

{{- define "dfs.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/deepfakestream
{{- if .Values.model.persistence.existingClaim }}
- name: models
  mountPath: {{ .Values.model.persistence.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "dfs.podAnnotations" -}}
checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
checksum/secrets: {{ include (print .root.Template.BasePath "/secrets.yaml") .root | sha256sum }}
{{- if and .root.Values.metrics.podAnnotations .port }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Whole CPU cores requested by a resources block (at least 0): torch's thread count. */}}
{{- define "dfs.cpuCores" -}}
{{- $cpu := "1" -}}
{{- if and . .requests -}}{{- if .requests.cpu -}}{{- $cpu = toString .requests.cpu -}}{{- end -}}{{- end -}}
{{- if hasSuffix "m" $cpu -}}
{{- div (trimSuffix "m" $cpu | atoi) 1000 -}}
{{- else -}}
{{- $cpu | float64 | int -}}
{{- end -}}
{{- end -}}
