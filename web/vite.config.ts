/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const nhsukAssets = fileURLToPath(new URL('./node_modules/nhsuk-frontend/dist/nhsuk/assets', import.meta.url));

// The Go server (wardline serve) answers /api; `npm run dev` proxies to it.
const apiTarget = process.env.WARDLINE_DEV_API ?? 'https://localhost:8443';

export default defineConfig({
  // esbuild compiles JSX; no React plugin is needed (it would pull in Babel).
  esbuild: { jsx: 'automatic' },
  resolve: {
    alias: { '@nhsuk-assets': nhsukAssets },
  },
  css: {
    preprocessorOptions: {
      scss: { quietDeps: true, silenceDeprecations: ['import'] },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Never inline assets as data: URIs: fonts would then break the server's CSP (font-src 'self').
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false, secure: false, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
    css: false,
  },
});
