import { defineConfig } from 'vite';

// The server serves index.html at / and everything else under /assets/. The
// build empties dist/, so package.json's build script puts back the tracked
// dist/.gitkeep that lets a fresh clone compile before the app is built.
// src/features.js is the map of the server's own HTML pages: its hashed
// file names reach the server through the manifest.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    manifest: true,
    rollupOptions: {
      input: { app: 'index.html', features: 'src/features.js' },
    },
  },
});
