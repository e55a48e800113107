import type { TraceView } from '../../lib/trace-model.js';
import { formatDuration, formatTimestamp } from '../../lib/format.js';
import { ServiceDot } from '../../components/common.js';

export function TraceHeader(props: { view: TraceView; source: 'api' | 'upload' }) {
  const s = props.view.summary;
  return (
    <div className="trace-header" data-testid="trace-header">
      <h1>
        <span><span className="svc-name">{s.rootService}</span>: {s.rootName || '(no root span)'}</span>
        <span className="mono muted small" data-testid="trace-id">{s.traceId}</span>
        {props.source === 'upload' && <span className="pill pill-info" title="Opened from a file: not stored in Skua">from file</span>}
      </h1>
      <dl className="facts">
        <div><dt>Trace start</dt><dd>{formatTimestamp(s.startUs)}</dd></div>
        <div><dt>Duration</dt><dd data-testid="trace-duration">{formatDuration(s.durationUs)}</dd></div>
        <div><dt>Services</dt><dd>{s.services.length}</dd></div>
        <div><dt>Depth</dt><dd>{s.depth}</dd></div>
        <div><dt>Total spans</dt><dd data-testid="trace-span-count">{s.spanCount.toLocaleString('en-US')}</dd></div>
        <div><dt>Errors</dt><dd className={s.errorCount ? 'text-error' : ''}>{s.errorCount}</dd></div>
      </dl>
      {(s.orphanCount > 0 || s.rootMissing) && (
        <p className="banner banner-warn" data-testid="incomplete-banner">
          ⚠ Incomplete trace: {s.orphanCount} span{s.orphanCount === 1 ? '' : 's'} reference a parent span that was not received
          {s.rootMissing ? ' (the root span is missing)' : ''}. A proxy stripping the <code>traceparent</code> header, or sampling upstream, are common causes.
        </p>
      )}
      {props.view.trace.warnings.length > 0 && <p className="banner banner-warn">{props.view.trace.warnings.join(' · ')}</p>}
      <div className="legend">
        {s.services.map((x) => (
          <span key={x.service} className="legend-item">
            <ServiceDot color={props.view.colors.get(x.service) ?? '#888'} />
            {x.service} <span className="muted">({x.count})</span>
          </span>
        ))}
      </div>
    </div>
  );
}
