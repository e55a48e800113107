import type { MouseEvent, ReactNode } from 'react';
import { href, navigate } from '../app/router.js';
import type { ApiFailure } from '../app/api.js';

export function Link(props: { to: string; className?: string; children: ReactNode; title?: string; testId?: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={href(props.to)} className={props.className} onClick={onClick} title={props.title} data-testid={props.testId}>
      {props.children}
    </a>
  );
}

export function Spinner(props: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{props.label ?? 'Loading…'}</span>
    </div>
  );
}

export function ErrorState(props: { error: ApiFailure; what?: string }) {
  const { error } = props;
  if (error.kind === 'unreachable') {
    return (
      <div className="state state-error" role="alert" data-testid="error-unreachable">
        <h2>Skua is not reachable</h2>
        <p>The query service did not answer{props.what ? ` while loading ${props.what}` : ''}. Check that Skua is running and that this page's address points at its query port (16686 by default).</p>
        <p className="muted">{error.message}</p>
      </div>
    );
  }
  return (
    <div className="state state-error" role="alert" data-testid="error-state">
      <h2>{error.kind === 'not-found' ? 'Not found' : 'Something went wrong'}</h2>
      <p>{error.message}</p>
    </div>
  );
}

export function EmptyState(props: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="state state-empty" data-testid={props.testId ?? 'empty-state'}>
      <h2>{props.title}</h2>
      {props.children}
    </div>
  );
}

export function ServiceDot(props: { color: string }) {
  return <span className="dot" style={{ background: props.color }} aria-hidden="true" />;
}
