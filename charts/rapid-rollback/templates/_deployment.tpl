{{/* One Deployment of the bot's image in one mode: pass (dict "root" $ "component" "app"|"worker"). */}}
{{- define "rapid-rollback.deployment" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $settings := index $v .component }}
{{- $selector := dict "root" $root "component" .component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "rapid-rollback.fullname" $root }}-{{ .component }}
  labels:
    {{- include "rapid-rollback.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ $settings.replicas }}
  selector:
    matchLabels:
      {{- include "rapid-rollback.selectorLabels" $selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "rapid-rollback.selectorLabels" $selector | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # A new rollback.yml restarts the pods: the bot reads it once, at start-up.
        checksum/rollback-yml: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- if $v.metrics.annotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $v.port | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "rapid-rollback.serviceAccountName" $root }}
      automountServiceAccountToken: {{ include "rapid-rollback.rbacEnabled" $root | eq "true" }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if eq .component "worker" }}
      terminationGracePeriodSeconds: {{ $v.worker.terminationGracePeriodSeconds }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        # The image's `node` user and group.
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 1000
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ .component }}
          image: "{{ $v.image.repository }}:{{ $v.image.tag | default $root.Chart.AppVersion }}"
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: [{{ .component | quote }}]
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          envFrom:
            - secretRef:
                name: {{ include "rapid-rollback.secretName" $root }}
          env:
            - name: PORT
              value: {{ $v.port | quote }}
            - name: ROLLBACK_CONFIG
              value: /config/rollback.yml
            # The root filesystem is read-only: revert-branch clones and helm's caches go to emptyDirs.
            - name: GIT_CACHE_DIR
              value: /var/cache/rapid-rollback/git
            - name: HELM_CACHE_HOME
              value: /tmp/helm/cache
            - name: HELM_CONFIG_HOME
              value: /tmp/helm/config
            - name: HELM_DATA_HOME
              value: /tmp/helm/data
            {{- with $v.redis.url }}
            - name: REDIS_URL
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.redis.sentinel.hosts }}
            - name: REDIS_SENTINELS
              value: {{ join "," . | quote }}
            - name: REDIS_SENTINEL_MASTER
              value: {{ required "redis.sentinel.masterName is required with redis.sentinel.hosts" $v.redis.sentinel.masterName | quote }}
            {{- end }}
            {{- range $name, $value := $v.env }}
            {{- if not (eq (toString $value) "") }}
            - name: {{ $name }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: {{ $v.probes.startup.periodSeconds }}
            failureThreshold: {{ $v.probes.startup.failureThreshold }}
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: {{ $v.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ $v.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: {{ $v.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ $v.probes.readiness.failureThreshold }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: [ALL]
          resources:
            {{- toYaml $settings.resources | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /config
              readOnly: true
            - name: git-cache
              mountPath: /var/cache/rapid-rollback
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config
          configMap:
            name: {{ include "rapid-rollback.fullname" $root }}
        - name: git-cache
          emptyDir: {}
        - name: tmp
          emptyDir: {}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
