import { expect, interactive, loginOk, test } from './helpers';

test('a family policy is created on the Image Families page, with its fields checked', async ({ page }) => {
  const family = `e2e-fam-${Date.now().toString(36)}`;
  // globex's account, so acme's lists stay what the read-only specs expect.
  await loginOk(page, 'globex', 'carol');
  await page.goto('/images/private');
  await page.getByRole('navigation', { name: 'Image Management Service' }).getByRole('link', { name: 'Image Families' }).click();
  await expect(page.getByRole('heading', { name: 'Image Families', exact: true })).toBeVisible();
  await interactive(page);

  await page.getByRole('button', { name: 'Create Policy' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create Policy' });
  await dialog.getByLabel('Family').fill(family);
  await dialog.getByLabel('Keep newest').fill('zero');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toContainText('Keep newest takes a whole number from 1 to 100');
  await dialog.getByLabel('Keep newest').fill('2');
  await dialog.getByLabel('AP-Hong Kong (ap-southeast-1)').check();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);

  const row = page.getByTestId('family-row').filter({ hasText: family });
  await expect(row).toContainText('None Normal');
  await expect(row).toContainText('AP-Hong Kong');
  await expect(row.locator('td').nth(3)).toHaveText('2');

  // Edit Policy shows the saved values; clearing Keep newest keeps every image.
  await row.getByRole('button', { name: 'Edit Policy' }).click();
  const edit = page.getByRole('dialog', { name: `Edit Policy of Family "${family}"` });
  await expect(edit.getByLabel('Keep newest')).toHaveValue('2');
  await expect(edit.getByLabel('AP-Hong Kong (ap-southeast-1)')).toBeChecked();
  await edit.getByLabel('Keep newest').fill('');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  await expect(row.locator('td').nth(3)).toHaveText('All');
});
