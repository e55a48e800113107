/**
 * TEST AND BENCHMARK ONLY: the `service:` section of a Skua config that runs one traces pipeline
 * (otlp → processors → jaeger_storage_exporter), logs at `logLevel` and serves its metrics on
 * 127.0.0.1:`metricsPort` (never the default :8888 a running Skua may hold).
 */
export function serviceSection(o: { extensions: readonly string[]; processors: readonly string[]; logLevel: string; metricsPort: number }): string {
  return `service:
  extensions: [${o.extensions.join(', ')}]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [${o.processors.join(', ')}]
      exporters: [jaeger_storage_exporter]
  telemetry:
    logs:
      level: ${o.logLevel}
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${o.metricsPort}
`;
}
