import { expect, interactive, loginOk, test } from './helpers';

test('a tenant creates a key, disables and enables it, schedules its deletion and cancels it', async ({ page }) => {
  await loginOk(page, 'acme', 'alice');
  await page.goto('/images/private');
  await page.getByRole('navigation', { name: 'Image Management Service' }).getByRole('link', { name: 'Keys' }).click();
  await expect(page.getByRole('heading', { name: 'Keys', exact: true })).toBeVisible();
  await interactive(page);
  const alias = `e2e/key-${Date.now()}`;
  const form = page.getByRole('region', { name: 'Create Key' });

  // Checked as the user types.
  await form.getByLabel('Alias').fill('bad alias');
  await expect(form).toContainText("The alias may hold only letters, digits, '_', '-', '/' and ':', not ' '.");
  await form.getByLabel('Alias').fill(alias);
  await form.getByLabel('Description').fill('e2e images');
  await form.getByRole('button', { name: 'Create Key' }).click();
  const row = page.getByTestId('key-row').filter({ hasText: alias });
  await expect(row).toContainText('Enabled');
  await expect(row).toContainText('e2e images');
  await expect(row).toContainText('None');
  await expect(form.getByLabel('Alias')).toHaveValue('');

  // The same alias again is refused next to the field.
  await form.getByLabel('Alias').fill(alias);
  await form.getByRole('button', { name: 'Create Key' }).click();
  await expect(form).toContainText(`A key with the alias "${alias}" already exists in this project.`);

  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('Disabled');
  await row.getByRole('button', { name: 'Enable' }).click();
  await expect(row).toContainText('Enabled');

  await row.getByRole('button', { name: 'Schedule Deletion' }).click();
  const dialog = page.getByRole('dialog', { name: `Schedule Deletion of Key "${alias}"` });
  await expect(dialog).toContainText('No image is encrypted under this key.');
  await dialog.getByLabel('Waiting period (days)').fill('5');
  await dialog.getByRole('button', { name: 'Schedule Deletion' }).click();
  await expect(dialog).toContainText('Enter a whole number of days from 7 to 30.');
  await dialog.getByLabel('Waiting period (days)').fill('7');
  await dialog.getByRole('button', { name: 'Schedule Deletion' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(row).toContainText('Pending deletion');
  await expect(row.getByRole('button', { name: 'Enable' })).toHaveCount(0);

  await row.getByRole('button', { name: 'Cancel Deletion' }).click();
  await expect(row).toContainText('Disabled');
  await expect(row.getByRole('button', { name: 'Enable' })).toBeVisible();
});

test('@readonly a viewer sees the keys but cannot create or change them', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/keys');
  await expect(page.getByRole('heading', { name: 'Keys', exact: true })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Create Key' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Schedule Deletion' })).toHaveCount(0);
});
