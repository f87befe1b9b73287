// The dashboard is built to static files (apps/dashboard/dist) that the server serves at `/`.
// Everything is bundled: no CDN, no external fonts. The dev server proxies the API and socket.io
// to a bench server on :8080, so `npx vite --config apps/dashboard/vite.config.mts` runs beside `bench start`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const dashboardRoot = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(dashboardRoot, '../..');
const serverUrl = 'http://127.0.0.1:8080';

export default defineConfig({
  root: dashboardRoot,
  base: '/',
  plugins: [preact()],
  resolve: {
    alias: { '@bench/events': path.join(repoRoot, 'libs/events/src/index.ts') },
  },
  build: {
    outDir: path.join(dashboardRoot, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': serverUrl,
      '/socket.io': { target: serverUrl, ws: true },
    },
  },
});
