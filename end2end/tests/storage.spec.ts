import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, interactive, loginOk, rows, test } from './helpers';

// A 24 MiB disk of random bytes as qcow2: four 8 MiB upload chunks.
function makeDisk(): { qcow2: string; rawSize: number } {
  const folder = mkdtempSync(join(tmpdir(), 'ims-e2e-'));
  const raw = join(folder, 'disk.raw');
  writeFileSync(raw, randomBytes(24 << 20));
  const qcow2 = join(folder, 'e2e-disk.qcow2');
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return { qcow2, rawSize: 24 << 20 };
}

test.describe.configure({ mode: 'serial' });

test('upload with a dropped connection and a page reload, import, export and download', async ({ page }) => {
  test.setTimeout(180_000);
  const disk = makeDisk();
  const bucket = `e2e-${Date.now().toString(36)}`;
  // globex's account, so acme's image counts stay what the other specs expect.
  await loginOk(page, 'globex', 'carol');

  await page.goto('/buckets');
  await interactive(page);
  await page.getByLabel('Bucket name').fill('Not_Valid');
  await expect(page.getByText('A bucket name may contain only lowercase letters')).toBeVisible();
  await page.getByLabel('Bucket name').fill(bucket);
  await page.getByRole('button', { name: 'Create Bucket' }).click();
  await page.getByRole('link', { name: bucket }).click();
  await expect(page.getByRole('heading', { name: bucket })).toBeVisible();
  await interactive(page);

  // First attempt: chunk 1 loses its connection once (retried), chunk 2 never answers, and
  // the page is reloaded while it waits.
  let failedOnce = false;
  await page.route('**/storage/uploads/*/chunks/1', (route) => {
    if (!failedOnce) {
      failedOnce = true;
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  let chunkTwoSeen = false;
  await page.route('**/storage/uploads/*/chunks/2', () => {
    chunkTwoSeen = true;
  });
  await page.getByLabel('File').setInputFiles(disk.qcow2);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByTestId('upload-progress')).toContainText('retrying');
  await expect.poll(() => chunkTwoSeen, { timeout: 30_000 }).toBe(true);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.reload();
  await interactive(page);
  await expect(page.getByTestId('unfinished-upload')).toContainText('e2e-disk.qcow2');

  // Choosing the same file again resumes after the two stored chunks.
  await page.getByLabel('File').setInputFiles(disk.qcow2);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByTestId('upload-progress')).toContainText('SHA-256', { timeout: 60_000 });
  const objectRow = page.getByTestId('object-row').filter({ hasText: 'e2e-disk.qcow2' });
  await expect(objectRow).toBeVisible();
  await expect(objectRow.locator('td[data-bytes]')).toHaveAttribute('data-bytes', String(statSync(disk.qcow2).size));
  await expect(page.getByTestId('unfinished-upload')).toHaveCount(0);

  // Create an image from the object and watch it become Normal.
  await objectRow.getByRole('link', { name: 'Create Image' }).click();
  await expect(page.getByLabel('File format')).toHaveValue('qcow2');
  await interactive(page);
  const imageName = `e2e image ${Date.now().toString(36)}`;
  await page.getByLabel('Name', { exact: true }).fill(imageName);
  await page.getByLabel('OS', { exact: true }).selectOption('Debian');
  await page.getByLabel('OS version').fill('Debian GNU/Linux 12 64bit');
  await page.getByLabel('Min. disk (GB)').fill('5000');
  await page.getByRole('button', { name: 'Create Image' }).click();
  await expect(page.getByText('Min. disk (GB) must be a whole number from 1 to 1024.')).toBeVisible();
  await page.getByLabel('Min. disk (GB)').fill('');
  await page.getByRole('button', { name: 'Create Image' }).click();
  await expect(page).toHaveURL(/\/images\/private$/);
  const imageRow = rows(page).filter({ hasText: imageName });
  await expect(imageRow).toBeVisible();
  await expect(imageRow.locator('.status')).toHaveText('Normal', { timeout: 60_000 });

  // Export it as a fixed VHD and download the result.
  await imageRow.getByRole('link', { name: imageName }).click();
  await expect(page.getByRole('heading', { name: 'Export Image' })).toBeVisible();
  await interactive(page);
  await page.locator('#export-bucket').selectOption(bucket);
  await page.locator('#export-format').selectOption('vhd');
  await page.locator('#export-key').fill('exported/e2e-disk.vhd');
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Export started');
  await page.getByRole('link', { name: 'Follow it on the Jobs page' }).click();
  const exportJob = page.getByTestId('job-row').filter({ hasText: 'Export image' }).first();
  await expect(exportJob).toContainText('SUCCESS', { timeout: 60_000 });

  await page.goto(`/buckets/${bucket}`);
  const exported = page.getByTestId('object-row').filter({ hasText: 'exported/e2e-disk.vhd' });
  await expect(exported.locator('td[data-bytes]')).toHaveAttribute('data-bytes', String(disk.rawSize + 512));
  const downloadPromise = page.waitForEvent('download');
  await exported.getByRole('link', { name: 'Download' }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe('e2e-disk.vhd');
  const saved = join(mkdtempSync(join(tmpdir(), 'ims-dl-')), 'e2e-disk.vhd');
  await download.saveAs(saved);
  expect(statSync(saved).size).toBe(disk.rawSize + 512);
});

test('@readonly a viewer sees buckets and jobs without upload or create controls', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/buckets');
  await expect(page.getByRole('heading', { name: 'Buckets' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create Bucket' })).toHaveCount(0);
  await page.goto('/images/private');
  await expect(page.getByRole('link', { name: 'Create Image' })).toHaveCount(0);
  await page.goto('/jobs');
  await expect(page.getByRole('heading', { name: 'Jobs' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
});
