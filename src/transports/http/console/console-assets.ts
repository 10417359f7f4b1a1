/**
 * The web console at /console: the Vite build of console/ (dist/console), served by this process.
 *
 * Every page is the same index.html (the console routes in the browser, /console/simulator
 * included); the hashed files under /console/assets are cached for a year. Every reply of this
 * scope carries a strict Content-Security-Policy: scripts and styles only from this origin, no
 * inline script or style, no frames, requests only back to this origin. Customer data is rendered
 * as text by the console itself (never as markup), and the policy is the second line of defence.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // Avatars are the customers' and reps' own image URLs, wherever they are hosted.
  "img-src 'self' https: http:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** dist/console of this package, from src/transports/http/console (tsx) or dist/src/... (built). */
export function defaultConsoleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.join(dir, 'dist', 'console');
}

export interface ConsoleOptions {
  /** The built console; default dist/console of this package. */
  readonly dir?: string;
}

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const dir = opts.dir ?? defaultConsoleDir();
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    return payload;
  });

  if (!existsSync(path.join(dir, 'index.html'))) {
    // A checkout that was never built (`npm run build` builds the console too): say so, in plain text.
    const notBuilt = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built on this server: run `npm run build`, then restart.\n');
    app.get('/console', notBuilt);
    app.get('/console/*', notBuilt);
    return;
  }

  await app.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/console/assets/',
    // File names carry a content hash: a changed file is a new URL.
    immutable: true,
    maxAge: '365d',
    index: false,
    list: false,
    dotfiles: 'deny',
  });
  const page = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html', dir, { cacheControl: false });
  app.get('/console', page);
  app.get('/console/*', page);
}
