import { Page } from '@playwright/test';
import { eventually, expect, interactive, loginOk, switchRegion, test } from './helpers';

async function openImage(page: Page, name: string) {
  await page.goto('/images/private');
  await interactive(page);
  await page.getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
  await interactive(page);
}

test('an image replicated within the region and to Hong Kong, and an ECS made from the replica there', async ({ page }) => {
  test.setTimeout(240_000);
  const suffix = Date.now().toString(36);
  const [copy, away, server] = [`e2e-copy-${suffix}`, `e2e-hk-${suffix}`, `e2e-hk-ecs-${suffix}`];
  // globex's images, so acme's lists stay what the read-only specs expect.
  await loginOk(page, 'globex', 'carol');

  // An ISO image cannot be replicated, and says why.
  await openImage(page, 'globex-installer-01');
  await expect(page.getByRole('button', { name: /^Replicate/ })).toBeDisabled();
  await expect(page.getByRole('button', { name: /^Replicate/ })).toContainText('ISO images cannot be replicated.');

  // Within the region: a bad name is refused next to its field, then the copy is made.
  await openImage(page, 'globex-db-01');
  await page.getByRole('button', { name: 'Replicate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Replicate Image "globex-db-01"' });
  await expect(dialog.getByLabel('Within Region')).toBeChecked();
  await dialog.getByLabel('Name', { exact: true }).fill('bad<name>');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toContainText("The name cannot contain '<'");
  await dialog.getByLabel('Name', { exact: true }).fill(copy);
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('replicate-done')).toContainText('Replication started (1 image)');
  await page.goto('/images/private');
  await eventually(page, async () => {
    await expect(page.getByTestId('image-row').filter({ hasText: copy })).toContainText('Normal');
  });

  // Across regions: to the account's project in AP-Hong Kong.
  await openImage(page, 'globex-db-01');
  await page.getByRole('button', { name: 'Replicate' }).click();
  await dialog.getByLabel('Across Regions').check();
  await dialog.getByLabel('Destination Region').selectOption('ap-southeast-1');
  await expect(dialog.getByLabel('Destination Project')).toContainText('ap-southeast-1');
  await dialog.getByLabel('Name', { exact: true }).fill(away);
  await dialog.getByLabel('Description').fill('replicated by the e2e test');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByTestId('replicate-done')).toContainText("listed in that region's Private Images");

  // In Hong Kong the replica is Normal once copied, with its lineage, and makes an ECS.
  await switchRegion(page, 'ap-southeast-1', 'AP-Hong Kong');
  await page.goto('/images/private');
  await eventually(page, async () => {
    await expect(page.getByTestId('image-row').filter({ hasText: away })).toContainText('Normal');
  });
  await page.getByRole('link', { name: away, exact: true }).click();
  await expect(page.getByTestId('lineage')).toContainText('Replicated from image globex-db-01 in CN North-Beijing4');
  await interactive(page);
  await page.getByRole('link', { name: 'Apply for ECS' }).click();
  await interactive(page);
  await page.getByLabel('Flavor').selectOption('s6.small.1');
  await page.getByLabel('Name', { exact: true }).fill(server);
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(page).toHaveURL(/\/ecs$/);
  const row = page.getByTestId('server-row').filter({ has: page.getByRole('link', { name: server, exact: true }) });
  await expect(row.locator('.status')).toContainText('Running', { timeout: 60_000 });
  await switchRegion(page, 'cn-north-4', 'CN North-Beijing4');
});
