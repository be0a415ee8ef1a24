// Waits until the console answers, so the specs never race the server's start.
export default async function globalSetup() {
  const base = process.env.IMS_BASE_URL ?? 'http://127.0.0.1:3000';
  const deadline = Date.now() + 180_000;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) return;
      lastError = `status ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the console at ${base} did not answer within 180 s: ${lastError}`);
}
