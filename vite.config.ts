/**
 * The web console (console/) is a small Preact application built by Vite into dist/console,
 * which `fis serve` serves at /console. The built page loads one script and one style sheet
 * from /console/assets: no inline script or style, so the strict Content-Security-Policy holds.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'console',
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // Every asset a file of its own: a data: URI would need a looser CSP.
    assetsInlineLimit: 0,
    // The preload polyfill is an inline-free helper, but modern browsers need none.
    modulePreload: { polyfill: false },
    sourcemap: true,
    reportCompressedSize: false,
  },
});
