{{/* Names and labels, the usual Helm conventions. */}}
{{- define "wsrouter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wsrouter.fullname" -}}
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

{{- define "wsrouter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wsrouter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "wsrouter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "wsrouter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "wsrouter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "wsrouter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Where the kubelet mounts each Secret (whole directories, never subPath:
     a subPath mount is not updated on rotation). */}}
{{- define "wsrouter.clientSecretDir" -}}/run/secrets/wsrouter-clients{{- end }}
{{- define "wsrouter.publisherSecretDir" -}}/run/secrets/wsrouter-publishers{{- end }}
{{- define "wsrouter.redisSecretDir" -}}/run/secrets/wsrouter-redis{{- end }}

{{/* The client Secret's name, "" when auth.mode is none. */}}
{{- define "wsrouter.clientSecretName" -}}
{{- if ne .Values.auth.mode "none" }}
{{- default (printf "%s-clients" (include "wsrouter.fullname" .)) .Values.auth.existingSecret }}
{{- end }}
{{- end }}

{{/* The publisher Secret's name, "" when there are no publisher tokens. */}}
{{- define "wsrouter.publisherSecretName" -}}
{{- if .Values.publisher.existingSecret }}
{{- .Values.publisher.existingSecret }}
{{- else if .Values.publisher.tokens }}
{{- printf "%s-publishers" (include "wsrouter.fullname" .) }}
{{- end }}
{{- end }}

{{/* The Redis password Secret's name, "" without redis or without a password. */}}
{{- define "wsrouter.redisSecretName" -}}
{{- if eq .Values.broker.type "redis" }}
{{- if .Values.broker.redis.existingSecret }}
{{- .Values.broker.redis.existingSecret }}
{{- else if .Values.broker.redis.password }}
{{- printf "%s-redis" (include "wsrouter.fullname" .) }}
{{- end }}
{{- end }}
{{- end }}

{{/* config.yaml: values.config with the keys the chart owns laid over it. */}}
{{- define "wsrouter.config" -}}
{{- $c := deepCopy .Values.config }}
{{- $_ := set $c "server" (mustMergeOverwrite (dict) (default (dict) $c.server) (dict "port" .Values.ports.public)) }}
{{- $admin := mustMergeOverwrite (dict) (default (dict) $c.admin) (dict "port" .Values.ports.admin) }}
{{- if include "wsrouter.publisherSecretName" . }}
{{- $_ := set $admin "publisher_token_file" (printf "%s/%s" (include "wsrouter.publisherSecretDir" .) .Values.publisher.key) }}
{{- end }}
{{- $_ := set $c "admin" $admin }}
{{- $auth := mustMergeOverwrite (dict) (default (dict) $c.auth) (dict "mode" .Values.auth.mode) }}
{{- $dir := include "wsrouter.clientSecretDir" . }}
{{- if eq .Values.auth.mode "token" }}
{{- $_ := set $auth "token_file" (printf "%s/%s" $dir .Values.auth.keys.tokens) }}
{{- else if eq .Values.auth.mode "jwt" }}
{{- $jwt := mustMergeOverwrite (dict) (default (dict) $auth.jwt) (dict "algorithms" .Values.auth.jwt.algorithms) }}
{{- if has "HS256" .Values.auth.jwt.algorithms }}
{{- $_ := set $jwt "hs256_secret_file" (printf "%s/%s" $dir .Values.auth.keys.hs256) }}
{{- end }}
{{- if has "RS256" .Values.auth.jwt.algorithms }}
{{- $_ := set $jwt "rs256_public_key_file" (printf "%s/%s" $dir .Values.auth.keys.rs256) }}
{{- end }}
{{- if has "ES256" .Values.auth.jwt.algorithms }}
{{- $_ := set $jwt "es256_public_key_file" (printf "%s/%s" $dir .Values.auth.keys.es256) }}
{{- end }}
{{- with .Values.auth.jwt.issuer }}{{ $_ := set $jwt "issuer" . }}{{ end }}
{{- with .Values.auth.jwt.audience }}{{ $_ := set $jwt "audience" . }}{{ end }}
{{- $_ := set $auth "jwt" $jwt }}
{{- end }}
{{- $_ := set $c "auth" $auth }}
{{- /* The broker keys are written only when redis is asked for: the memory
       broker's config stays what the router's defaults are. */}}
{{- if eq .Values.broker.type "redis" }}
{{- $redis := dict "mode" .Values.broker.redis.mode "addresses" .Values.broker.redis.addresses }}
{{- with .Values.broker.redis.username }}{{ $_ := set $redis "username" . }}{{ end }}
{{- if include "wsrouter.redisSecretName" . }}
{{- $_ := set $redis "password_file" (printf "%s/%s" (include "wsrouter.redisSecretDir" .) .Values.broker.redis.key) }}
{{- end }}
{{- $_ := set $c "broker" (dict "type" "redis" "redis" $redis) }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/* Seconds the kubelet waits after SIGTERM: the drain, the close window and
     the last close handshake, plus a margin. */}}
{{- define "wsrouter.terminationGracePeriodSeconds" -}}
{{- $s := default (dict) .Values.config.shutdown }}
{{- $h := default (dict) .Values.config.heartbeat }}
{{- $ms := add (default 5000 $s.drain_delay_ms) (default 10000 $s.close_window_ms) (default 2000 $h.close_timeout_ms) }}
{{- add (div (add $ms 999) 1000) .Values.terminationGraceExtraSeconds }}
{{- end }}

{{/* Descriptors the pod needs: the connection cap plus listeners, loops,
     secret watches and the admin server's connections. */}}
{{- define "wsrouter.minNofile" -}}
{{- $l := default (dict) .Values.config.limits }}
{{- add (default 15000 $l.max_connections) 1024 }}
{{- end }}
