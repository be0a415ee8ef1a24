import { expect, interactive, loginOk, test } from './helpers';

test('a user creates an access key, sees its secret once with credentials.csv, disables, enables and deletes it', async ({ page }) => {
  await loginOk(page, 'globex', 'carol');
  await page.goto('/credentials');
  await interactive(page);
  const panel = page.getByRole('region', { name: 'Access Keys' });
  const keyRows = panel.getByTestId('access-key-row');
  // A clean slate (a retried run may have left keys behind).
  while ((await keyRows.count()) > 0) {
    await keyRows.first().getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete Access Key' }).getByRole('button', { name: 'Delete' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
  }
  await expect(keyRows).toHaveCount(0);

  await panel.getByRole('button', { name: 'Create Access Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create Access Key' });
  await dialog.getByLabel('Description (optional)').fill('e2e nightly build');
  await dialog.getByRole('button', { name: 'OK' }).click();
  const accessKey = (await dialog.getByTestId('new-access-key').textContent()) ?? '';
  const secretKey = (await dialog.getByTestId('new-secret-key').textContent()) ?? '';
  expect(accessKey).toMatch(/^[A-Z0-9]{20}$/);
  expect(secretKey).toMatch(/^[A-Za-z0-9]{40}$/);
  await expect(dialog.getByText('This is the only time the secret access key is shown.', { exact: false })).toBeVisible();
  const csv = dialog.getByRole('link', { name: 'Download credentials.csv' });
  await expect(csv).toHaveAttribute('download', 'credentials.csv');
  const href = decodeURIComponent((await csv.getAttribute('href')) ?? '');
  expect(href).toContain(`carol,${accessKey},${secretKey}`);
  await dialog.getByRole('button', { name: 'Close' }).click();

  const row = keyRows.filter({ hasText: accessKey });
  await expect(row).toContainText('e2e nightly build');
  await expect(row).toContainText('Enabled');
  await expect(row.getByTestId('access-key-last-used')).toHaveText('Never');
  // The secret is never shown again.
  await page.reload();
  await interactive(page);
  await expect(page.getByText(secretKey)).toHaveCount(0);

  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('Disabled');
  await row.getByRole('button', { name: 'Enable' }).click();
  await expect(row).toContainText('Enabled');

  // Two keys at most: the button says why it is unavailable.
  await panel.getByRole('button', { name: 'Create Access Key' }).click();
  await page.getByRole('dialog', { name: 'Create Access Key' }).getByRole('button', { name: 'OK' }).click();
  await page.getByRole('dialog', { name: 'Create Access Key' }).getByRole('button', { name: 'Close' }).click();
  await expect(keyRows).toHaveCount(2);
  const create = panel.getByRole('button', { name: /^Create Access Key/ });
  await expect(create).toBeDisabled();
  await expect(create).toHaveAttribute('title', 'You already hold 2 access keys, the most a user can have.');

  while ((await keyRows.count()) > 0) {
    const before = await keyRows.count();
    await keyRows.first().getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete Access Key' });
    await expect(confirm).toContainText('Scripts that sign with it stop working at once.');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(keyRows).toHaveCount(before - 1);
  }
});

test('@readonly a viewer may hold access keys too (they can only read)', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/credentials');
  const panel = page.getByRole('region', { name: 'Access Keys' });
  await expect(panel.getByRole('heading', { name: 'Access Keys' })).toBeVisible();
  await expect(panel).toContainText('a viewer\'s key can only read');
  await expect(panel.getByRole('table')).toBeVisible();
});
