/**
 * The configuration `skua` runs when no --config is given: everything in one process, every port
 * on ${SKUA_LISTEN_HOST:-localhost} (set SKUA_LISTEN_HOST=0.0.0.0 in a container). `skua
 * print-config` shows it with defaults filled in. Keep this the single source the docs quote.
 */
export const allInOneConfigYaml = `# Skua all-in-one: OTLP in, embedded ClickHouse storage (directory SKUA_DATA, default ./skua-data), Jaeger query API and UI, health, self-metrics.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: skua
    logs:
      level: info
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: \${env:SKUA_LISTEN_HOST:-localhost}
                port: 8888

extensions:
  jaeger_storage:
    backends:
      main:
        clickhouse:
          embedded:
            path: \${env:SKUA_DATA:-./skua-data}
  jaeger_query:
    storage:
      traces: main
    http:
      endpoint: \${env:SKUA_LISTEN_HOST:-localhost}:16686
  healthcheckv2:
    use_v2: true
    http:
      endpoint: \${env:SKUA_LISTEN_HOST:-localhost}:13133

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: \${env:SKUA_LISTEN_HOST:-localhost}:4317
      http:
        endpoint: \${env:SKUA_LISTEN_HOST:-localhost}:4318

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: main
`;
