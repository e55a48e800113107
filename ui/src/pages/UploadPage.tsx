import { useState, type DragEvent } from 'react';
import { addUploadedTraces } from '../app/api.js';
import { navigate } from '../app/router.js';
import { EmptyState, Link, ServiceDot } from '../components/common.js';
import { parseTraceFile, type FileFormat } from '../lib/file-formats.js';
import { summarize, type TraceSummary } from '../lib/summary.js';
import { formatDuration, formatTimestamp } from '../lib/format.js';
import { hashColor } from '../lib/color.js';

const formatNames: Record<FileFormat, string> = { 'otlp-json': 'OTLP JSON', 'otlp-jsonl': 'OTLP JSON Lines', 'jaeger-json': 'Jaeger JSON' };

interface Loaded {
  file: string;
  format: FileFormat;
  traces: TraceSummary[];
}

// Kept across navigation so that "back" from an opened trace shows the list again.
let lastLoaded: Loaded[] = [];

/** Open trace files from disk and view them without storing them in Skua. */
export function UploadPage() {
  const [loaded, setLoaded] = useState<Loaded[]>(lastLoaded);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [over, setOver] = useState(false);
  const open = async (files: FileList | null) => {
    if (!files || files.length === 0) return;
    setBusy(true);
    setError('');
    const out: Loaded[] = [];
    const errors: string[] = [];
    for (const f of Array.from(files)) {
      try {
        const parsed = parseTraceFile(await f.text());
        if (parsed.traces.length === 0) throw new Error('no spans in the file');
        addUploadedTraces(parsed.traces);
        out.push({ file: f.name, format: parsed.format, traces: parsed.traces.map((t) => summarize(t)) });
      } catch (e) {
        errors.push(`${f.name}: ${(e as Error).message}`);
      }
    }
    lastLoaded = [...out, ...lastLoaded];
    setLoaded(lastLoaded);
    setError(errors.join('\n'));
    setBusy(false);
    const only = out.length === 1 && out[0]!.traces.length === 1 ? out[0]!.traces[0] : undefined;
    if (only && errors.length === 0) navigate(`/trace/${only.traceId}`);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void open(e.dataTransfer.files);
  };
  return (
    <div className="upload-page page-pad">
      <h1>Open a trace file</h1>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>Drop OTLP JSON, OTLP JSON Lines or Jaeger JSON files here, or</p>
        <label className="btn btn-primary">
          Choose files…
          <input type="file" accept=".json,.jsonl,.ndjson,application/json" multiple hidden onChange={(e) => void open(e.target.files)} data-testid="upload-input" />
        </label>
        <p className="muted small">The files are read in your browser and are not stored in Skua.</p>
      </div>
      {busy && <p className="loading"><span className="spinner" /> Reading…</p>}
      {error && <pre className="banner banner-error" role="alert" data-testid="upload-error">{error}</pre>}
      {loaded.length === 0 && !busy && !error && <EmptyState title="No file opened yet" testId="upload-empty" />}
      {loaded.map((l, k) => (
        <section key={`${l.file}-${k}`} className="upload-file" data-testid="upload-file">
          <h2>{l.file} <span className="muted small">{formatNames[l.format]} · {l.traces.length} trace{l.traces.length === 1 ? '' : 's'}</span></h2>
          {l.traces.map((t) => (
            <div key={t.traceId} className="result" data-testid="upload-trace">
              <div className="result-head">
                <Link to={`/trace/${t.traceId}`} className="result-title">
                  <ServiceDot color={hashColor(t.rootService)} />
                  <strong>{t.rootService}:</strong> {t.rootName} <span className="mono muted">{t.traceId.slice(0, 7)}</span>
                </Link>
                <span className="result-duration">{formatDuration(t.durationUs)}</span>
              </div>
              <div className="result-body">
                <span className="pill">{t.spanCount} spans</span>
                {t.errorCount > 0 && <span className="pill pill-error">{t.errorCount} error{t.errorCount === 1 ? '' : 's'}</span>}
                {t.services.map((s) => <span key={s.service} className="pill svc"><ServiceDot color={hashColor(s.service)} />{s.service} ({s.count})</span>)}
                <span className="spacer" />
                <span className="muted">{formatTimestamp(t.startUs)}</span>
              </div>
            </div>
          ))}
        </section>
      ))}
    </div>
  );
}
