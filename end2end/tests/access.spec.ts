import { expect, interactive, loginOk, rows, switchRegion, test, totalCount } from './helpers';

test('@readonly a viewer sees no mutating controls', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await expect(page.locator('.role-badge')).toHaveText('viewer');
  await page.goto('/images/private');
  expect(await rows(page).count()).toBeGreaterThan(0);
  // The owner's operations are there, disabled, each saying why.
  expect(await page.locator('.operations button').count()).toBeGreaterThan(0);
  await expect(page.locator('.operations button:enabled')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Create Image' })).toBeDisabled();
});

test('@readonly an admin sees delete controls on private images only', async ({ page }) => {
  await loginOk(page, 'acme', 'alice');
  await page.goto('/images/private');
  expect(await page.getByRole('button', { name: 'Delete' }).count()).toBeGreaterThan(0);
  await page.goto('/images/public');
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
});

test('@readonly another tenant cannot open a private image', async ({ page, browser }) => {
  await loginOk(page, 'acme', 'alice');
  await page.goto('/images/private');
  const acmeName = await page.locator('.image-name').first().innerText();
  const acmeHref = await page.locator('.image-name').first().getAttribute('href');

  const other = await browser.newContext({ javaScriptEnabled: test.info().project.name === 'js' });
  const carol = await other.newPage();
  await loginOk(carol, 'globex', 'carol');
  const response = await carol.goto(acmeHref!);
  expect(response?.status()).toBe(404);
  await expect(carol.getByRole('heading', { name: 'Image not found' })).toBeVisible();
  await expect(carol.locator('body')).not.toContainText(acmeName);
  await carol.goto(`/images/private?name=${encodeURIComponent(acmeName)}`);
  await expect(carol.getByTestId('empty-result')).toBeVisible();
  await other.close();
});

test('@readonly the region switcher changes what every page shows', async ({ page }) => {
  await loginOk(page, 'acme', 'alice');
  await page.goto('/images/private');
  await interactive(page);
  expect(await totalCount(page)).toBe(15);
  await switchRegion(page, 'ap-southeast-1', 'AP-Hong Kong');
  expect(await totalCount(page)).toBe(2);
  await page.goto('/images/public');
  await interactive(page);
  await expect(page.locator('#region-select')).toHaveValue('ap-southeast-1');
  // Back to the default region for the other specs.
  await switchRegion(page, 'cn-north-4', 'CN North-Beijing4');
});

test('an admin deletes a private image after seeing what it affects', async ({ page }) => {
  await loginOk(page, 'globex', 'carol');
  await page.goto('/images/private?status=active&sort=name&order=asc');
  await interactive(page);
  const before = await totalCount(page);
  const row = rows(page).filter({ has: page.getByRole('button', { name: 'Delete', disabled: false }) }).first();
  const name = await row.locator('.image-name').innerText();
  await row.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading')).toHaveText(`Delete Image "${name}"`);
  await expect(dialog.getByTestId('impact-row')).toHaveCount(1);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByTestId('total-count')).toHaveText(`Total Records: ${before - 1}`);
  await expect(page.locator('.image-name', { hasText: new RegExp(`^${name}$`) })).toHaveCount(0);
  await page.reload();
  await expect(page.locator('.image-name', { hasText: new RegExp(`^${name}$`) })).toHaveCount(0);
});

test('@readonly the Quotas page shows each quota with its use', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.getByRole('link', { name: 'Quotas' }).click();
  await expect(page.getByRole('heading', { name: 'Quotas' })).toBeVisible();
  const row = (label: string) => page.getByRole('row').filter({ hasText: label });
  await expect(row('Private images').getByRole('cell').nth(1)).toHaveText('16');
  await expect(row('Private images').getByRole('cell').nth(2)).toHaveText('100');
  await expect(row('ECSs').getByRole('progressbar')).toHaveAttribute('aria-label', 'ECSs used');
  for (const label of ['Stored data', 'Bucket objects', 'Unfinished uploads', 'EVS disks', 'Jobs waiting to run']) {
    await expect(row(label)).toHaveCount(1);
  }
});
