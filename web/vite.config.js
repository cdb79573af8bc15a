import { defineConfig } from 'vite';

// The server serves index.html at / and everything else under /assets/. The
// build empties dist/, so package.json's build script puts back the tracked
// dist/.gitkeep that lets a fresh clone compile before the app is built.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
  },
});
