import { useState } from 'preact/hooks';
import { initials, safeImageUrl } from './text';

/** The avatar image, or the name's initials when there is none (or it fails to load). */
export function Avatar({ name, url, size = 'small' }: { name: string; url?: string | null; size?: 'small' | 'large' }) {
  const src = safeImageUrl(url);
  const [failed, setFailed] = useState(false);
  if (src && !failed) {
    return <img class={`avatar avatar-${size}`} src={src} alt="" referrerpolicy="no-referrer" onError={() => setFailed(true)} />;
  }
  return (
    <span class={`avatar avatar-${size} avatar-initials`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
