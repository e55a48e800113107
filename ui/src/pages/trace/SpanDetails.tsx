import { useState, type ReactNode } from 'react';
import type { TraceView } from '../../lib/trace-model.js';
import { anyValueToString, spanKindNames, statusNames, type KeyValueJson } from '../../lib/model.js';
import { formatDuration, formatTimestamp } from '../../lib/format.js';
import { Link, ServiceDot } from '../../components/common.js';

function Section(props: { title: string; count?: number; children: ReactNode; open?: boolean; testId?: string }) {
  const [open, setOpen] = useState(props.open ?? true);
  return (
    <section className="kv-section" data-testid={props.testId}>
      <button className="kv-title" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? '▾' : '▸'} {props.title}
        {props.count !== undefined && <span className="muted"> ({props.count})</span>}
      </button>
      {open && props.children}
    </section>
  );
}

function KvTable(props: { attrs: readonly KeyValueJson[] }) {
  if (props.attrs.length === 0) return <p className="muted small">none</p>;
  return (
    <table className="kv">
      <tbody>
        {props.attrs.map((a, i) => (
          <tr key={`${a.key}-${i}`}>
            <th>{a.key}</th>
            <td className="mono">{anyValueToString(a.value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SpanDetails(props: { view: TraceView; span: number; onClose: () => void; onSelect: (i: number) => void; onCritical?: boolean }) {
  const { trace, tree, colors } = props.view;
  const s = trace.spans[props.span]!;
  const parent = tree.parent[props.span]!;
  const orphan = tree.orphan[props.span] === 1;
  const rel = (us: number) => formatDuration(us - trace.startUs);
  return (
    <aside className="details" data-testid="span-details" aria-label="Span details">
      <div className="details-head">
        <h2>
          <ServiceDot color={colors.get(s.service) ?? '#888'} />
          {s.service}: <span className="op">{s.name}</span>
        </h2>
        <button className="btn btn-ghost" onClick={props.onClose} aria-label="Close details" title="Close (Esc)">✕</button>
      </div>
      {orphan && (
        <p className="banner banner-warn" data-testid="orphan-warning">
          ⚠ incomplete trace: parent span not received (parent id <span className="mono">{s.parentSpanId}</span>)
        </p>
      )}
      {s.warnings.length > 0 && (
        <ul className="banner banner-warn warnings" data-testid="span-warnings">
          {s.warnings.map((w, i) => <li key={i}>{w}</li>)}
        </ul>
      )}
      {s.error && (
        <p className="banner banner-error">✖ Error{s.status.message ? `: ${s.status.message}` : ''}</p>
      )}
      <dl className="facts facts-grid">
        <div><dt>Duration</dt><dd>{formatDuration(s.durationUs)}</dd></div>
        <div><dt>Start</dt><dd title={formatTimestamp(s.startUs)}>+{rel(s.startUs)}</dd></div>
        <div><dt>Kind</dt><dd>{spanKindNames[s.kind] ?? s.kind}</dd></div>
        <div><dt>Status</dt><dd className={s.status.code === 2 ? 'text-error' : ''}>{statusNames[s.status.code] ?? s.status.code}{s.status.message ? ` — ${s.status.message}` : ''}</dd></div>
        {props.onCritical !== undefined && <div><dt>Critical path</dt><dd>{props.onCritical ? 'yes' : 'no'}</dd></div>}
      </dl>
      <Section title="Attributes" count={s.attributes.length} testId="span-attributes">
        <KvTable attrs={s.attributes} />
      </Section>
      <Section title="Resource" count={s.resource.attributes.length} open={false} testId="span-resource">
        <KvTable attrs={s.resource.attributes} />
      </Section>
      <Section title="Scope" open={false}>
        <table className="kv">
          <tbody>
            <tr><th>name</th><td className="mono">{s.scope.name || '—'}</td></tr>
            <tr><th>version</th><td className="mono">{s.scope.version || '—'}</td></tr>
          </tbody>
        </table>
        {s.scope.attributes.length > 0 && <KvTable attrs={s.scope.attributes} />}
      </Section>
      <Section title="Events" count={s.events.length} open={s.events.length > 0} testId="span-events">
        {s.events.length === 0 ? (
          <p className="muted small">none</p>
        ) : (
          <ul className="events">
            {s.events.map((e, i) => (
              <li key={i}>
                <div>
                  <span className="mono">+{formatDuration(e.timeUs - s.startUs)}</span> <strong>{e.name}</strong>{' '}
                  <span className="muted small">(trace +{rel(e.timeUs)})</span>
                </div>
                {e.attributes.length > 0 && <KvTable attrs={e.attributes} />}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Links" count={s.links.length} open={s.links.length > 0}>
        {s.links.length === 0 ? (
          <p className="muted small">none</p>
        ) : (
          <ul className="events">
            {s.links.map((l, i) => (
              <li key={i}>
                <span className="muted">{l.type}</span>{' '}
                {l.traceId === trace.traceId ? (
                  <button className="linkish mono" onClick={() => {
                    const idx = trace.spans.findIndex((x) => x.spanId === l.spanId);
                    if (idx >= 0) props.onSelect(idx);
                  }}>span {l.spanId}</button>
                ) : (
                  <Link to={`/trace/${l.traceId}`} className="mono">{l.traceId.slice(0, 12)}… / {l.spanId}</Link>
                )}
                {l.attributes.length > 0 && <KvTable attrs={l.attributes} />}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Ids" testId="span-ids">
        <table className="kv">
          <tbody>
            <tr><th>trace id</th><td className="mono">{s.traceId}</td></tr>
            <tr><th>span id</th><td className="mono">{s.spanId}</td></tr>
            <tr>
              <th>parent span id</th>
              <td className="mono">
                {parent >= 0 ? <button className="linkish mono" onClick={() => props.onSelect(parent)}>{s.parentSpanId}</button> : s.parentSpanId || '— (root)'}
              </td>
            </tr>
            {s.traceState && <tr><th>trace state</th><td className="mono">{s.traceState}</td></tr>}
            <tr><th>flags</th><td className="mono">{s.flags}</td></tr>
          </tbody>
        </table>
      </Section>
    </aside>
  );
}
