export type Theme = 'light' | 'dark';

export function currentTheme(): Theme {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

export function setTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem('skua.theme', t);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  window.dispatchEvent(new Event('skua-theme'));
}
