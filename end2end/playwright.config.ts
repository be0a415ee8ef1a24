import { defineConfig } from '@playwright/test';

// Debian's Chromium, kept off the network (this machine has none but the package registries).
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  globalSetup: './global-setup.ts',
  use: {
    baseURL: process.env.IMS_BASE_URL ?? 'http://127.0.0.1:3000',
    launchOptions,
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  projects: [
    { name: 'js', use: { javaScriptEnabled: true } },
    // Every read-only spec also runs with JavaScript off: the pages render on the server.
    { name: 'no-js', use: { javaScriptEnabled: false }, grep: /@readonly/ },
  ],
});
