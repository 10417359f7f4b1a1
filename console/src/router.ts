/** Client-side routes under /console: the path is the state, so every screen has its own URL. */
import { signal, useSignal } from './signal';

export const BASE = '/console';

const current = signal(location.pathname + location.search);

addEventListener('popstate', () => current.set(location.pathname + location.search));

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = to.startsWith(BASE) ? to : BASE + to;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  current.set(location.pathname + location.search);
  scrollTo(0, 0);
}

export interface Route {
  /** The path below /console, without a trailing slash: `/customers/abc`. */
  readonly path: string;
  readonly segments: string[];
  readonly query: URLSearchParams;
}

export function parseRoute(url: string): Route {
  const [pathname = '', search = ''] = url.split('?');
  let path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  path = path.replace(/\/+$/, '');
  const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  return { path, segments, query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  return parseRoute(useSignal(current));
}

/** A path segment, encoded. */
export const seg = (value: string) => encodeURIComponent(value);

/**
 * Props for an <a> that navigates inside the console: a real link (open in a new tab works),
 * and an ordinary click stays in the page.
 */
export function linkProps(to: string) {
  const href = to.startsWith(BASE) ? to : BASE + to;
  return {
    href,
    onClick(event: MouseEvent) {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      navigate(href);
    },
  };
}
