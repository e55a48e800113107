import { useMemo } from 'react';
import { href } from '../../app/router.js';
import { fetchJson, useQuery } from '../../app/api.js';
import type { UiTrace } from '../../lib/model.js';
import { toOtlpJson } from '../../lib/to-otlp.js';
import { ErrorState, Spinner } from '../../components/common.js';

const MAX_SHOWN = 1_500_000;

/** The trace as OTLP JSON: API v3's answer for stored traces, a re-encoding for uploaded ones. */
export function RawJson(props: { trace: UiTrace; source: 'api' | 'upload' }) {
  const { trace, source } = props;
  const q = useQuery(source === 'api' ? `raw:${trace.traceId}` : null, (signal) => fetchJson<unknown>(`/api/v3/traces/${trace.traceId}`, signal));
  const doc = source === 'upload' ? toOtlpJson(trace) : q.status === 'ok' ? q.data : undefined;
  const text = useMemo(() => (doc === undefined ? '' : JSON.stringify(doc, null, 2)), [doc]);
  const blobUrl = useMemo(() => URL.createObjectURL(new Blob([text], { type: 'application/json' })), [text]);
  if (source === 'api' && q.status === 'loading') return <Spinner label="Loading OTLP JSON…" />;
  if (source === 'api' && q.status === 'error') return <ErrorState error={q.error} what="the raw trace" />;
  return (
    <div className="raw" data-testid="raw-json">
      <div className="toolbar">
        <span className="muted">OTLP JSON {source === 'api' ? <>from <code>/api/v3/traces/{trace.traceId}</code></> : '(re-encoded from the opened file)'}</span>
        <span className="spacer" />
        {source === 'api' && <a className="btn" href={href(`/api/v3/traces/${trace.traceId}`)} target="_blank" rel="noreferrer">Open</a>}
        <a className="btn" href={blobUrl} download={`trace-${trace.traceId}.json`}>Download</a>
      </div>
      <pre className="mono">{text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}\n… (${(text.length / 1e6).toFixed(1)} MB in all: download to see the rest)` : text}</pre>
    </div>
  );
}
