import { useEffect, useState } from 'react';
import { useRoute } from './router.js';
import { currentTheme, setTheme, type Theme } from './theme.js';
import { Link } from '../components/common.js';
import { SearchPage } from '../pages/SearchPage.js';
import { TracePage } from '../pages/TracePage.js';
import { ComparePage } from '../pages/ComparePage.js';
import { DependenciesPage } from '../pages/DependenciesPage.js';
import { UploadPage } from '../pages/UploadPage.js';

function ThemeToggle() {
  const [theme, set] = useState<Theme>(currentTheme());
  useEffect(() => {
    const on = () => set(currentTheme());
    window.addEventListener('skua-theme', on);
    return () => window.removeEventListener('skua-theme', on);
  }, []);
  const next: Theme = theme === 'dark' ? 'light' : 'dark';
  return (
    <button className="btn btn-ghost" onClick={() => setTheme(next)} title={`Switch to the ${next} theme`} data-testid="theme-toggle">
      {theme === 'dark' ? '☀ Light' : '☾ Dark'}
    </button>
  );
}

export function App() {
  const route = useRoute();
  const p = route.path;
  let page;
  let section = 'search';
  const trace = /^\/trace\/([^/]+)\/?$/.exec(p);
  if (trace) {
    const id = decodeURIComponent(trace[1]!);
    const cmp = /^(.*?)\.\.\.(.*)$/.exec(id);
    if (cmp) {
      page = <ComparePage a={cmp[1]!} b={cmp[2]!} />;
      section = 'compare';
    } else {
      page = <TracePage key={id} traceId={id} />;
      section = 'trace';
    }
  } else if (p.startsWith('/dependencies')) {
    page = <DependenciesPage />;
    section = 'dependencies';
  } else if (p.startsWith('/upload')) {
    page = <UploadPage />;
    section = 'upload';
  } else page = <SearchPage />;
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/search" className="brand">
          <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true"><path d="M2 12 L8 3 L14 12 Z" fill="currentColor" /></svg>
          Skua
        </Link>
        <nav>
          <Link to="/search" className={section === 'search' ? 'active' : ''} testId="nav-search">Search</Link>
          <Link to="/dependencies" className={section === 'dependencies' ? 'active' : ''} testId="nav-dependencies">Service map</Link>
          <Link to="/upload" className={section === 'upload' ? 'active' : ''} testId="nav-upload">Open file</Link>
        </nav>
        <div className="spacer" />
        <ThemeToggle />
      </header>
      <main className="main">{page}</main>
    </div>
  );
}
