import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The console is built into dist/console and served by the platform at /console (both
// profiles), so every path is under /console/ and nothing is fetched from elsewhere.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  // React's automatic JSX runtime, transformed by Vite's own oxc: no React plugin is needed for a
  // production build (fast refresh is the plugin's only addition, and the console is not
  // developed against a dev server).
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // Chromium 100+ and current Firefox/Safari; the platform's users run evergreen browsers.
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  logLevel: 'warn',
});
