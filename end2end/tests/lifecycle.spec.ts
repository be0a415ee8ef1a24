import { expect, interactive, loginOk, rows, test } from './helpers';

test('an owner modifies an image, with refusals next to their fields, and switches deletion protection', async ({ page }) => {
  const name = `e2e-modified-${Date.now().toString(36)}`;
  // globex's images, so acme's lists stay what the read-only specs expect.
  await loginOk(page, 'globex', 'carol');
  await page.goto('/images/private?status=active&image_type=system&sort=name&order=desc');
  await rows(page).first().getByRole('link', { name: 'Details' }).click();
  await interactive(page);
  await page.getByRole('button', { name: 'Modify' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading', { name: /^Modify Image/ })).toBeVisible();
  await dialog.getByLabel('Min. memory (MB)').fill('4096');
  await dialog.getByLabel('Max. memory (MB)').fill('1024');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByText('Max. memory cannot be below min. memory.')).toBeVisible();
  await dialog.getByLabel('Max. memory (MB)').fill('');
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page.locator('.attribute', { hasText: 'Min. Memory' })).toContainText('4096 MB');

  const toggle = page.getByRole('switch', { name: 'Deletion protection' });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await toggle.click();
  await expect(page.getByRole('switch', { name: 'Deletion protection' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.locator('.attribute', { hasText: 'Protected' })).toContainText('Yes');
  await page.getByRole('switch', { name: 'Deletion protection' }).click();
  await expect(page.getByRole('switch', { name: 'Deletion protection' })).toHaveAttribute('aria-checked', 'false');
});

test('@readonly a viewer has no Modify and no protection switch', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/images/private?status=active');
  await rows(page).first().getByRole('link', { name: 'Details' }).click();
  await expect(page.getByRole('heading', { name: 'Basic Information' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Modify' })).toHaveCount(0);
  await expect(page.getByRole('switch')).toHaveCount(0);
});
