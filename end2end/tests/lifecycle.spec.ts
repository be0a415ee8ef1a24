import { readFileSync } from 'fs';
import { expect, interactive, loginOk, rows, test, totalCount } from './helpers';

test('an owner modifies an image, with refusals next to their fields, and switches deletion protection', async ({ page }) => {
  const name = `e2e-modified-${Date.now().toString(36)}`;
  // globex's images, so acme's lists stay what the read-only specs expect.
  await loginOk(page, 'globex', 'carol');
  await page.goto('/images/private?status=active&image_type=system&sort=name&order=asc');
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

test('@readonly a viewer\'s Modify and Delete are disabled and say why; there is no protection switch', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/images/private?status=active');
  // The list's own Delete says why too, to the mouse and to screen readers.
  const rowDelete = rows(page).first().getByRole('button', { name: /^Delete/ });
  await expect(rowDelete).toBeDisabled();
  await expect(rowDelete).toHaveAttribute('title', 'Your role (viewer) can only view images.');
  await expect(rowDelete).toHaveAccessibleName('Delete (unavailable: Your role (viewer) can only view images.)');
  await rows(page).first().getByRole('link', { name: 'Details' }).click();
  await expect(page.getByRole('heading', { name: 'Basic Information' })).toBeVisible();
  for (const name of ['Modify', 'Delete', 'Share']) {
    const button = page.locator('.header-actions').getByRole('button', { name: new RegExp(`^${name}`) });
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute('title', 'Your role (viewer) can only view images.');
  }
  await expect(page.getByTestId('export-unavailable')).toHaveText('Your role (viewer) can only view images.');
  await expect(page.getByRole('switch')).toHaveCount(0);
});

test('an owner adds, edits and deletes a tag, with a refusal next to its field', async ({ page }) => {
  await loginOk(page, 'globex', 'carol');
  await page.goto('/images/private?status=active&sort=name&order=asc');
  await rows(page).first().getByRole('link', { name: 'Details' }).click();
  await interactive(page);
  const tags = page.getByTestId('tags');
  await tags.getByRole('button', { name: 'Add Tag' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add Tag' });
  await dialog.getByLabel('Key').fill('bad key');
  await dialog.getByLabel('Value').fill('e2e');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByText("A tag key cannot contain ' '")).toBeVisible();
  await dialog.getByLabel('Key').fill('e2e-owner');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  const row = tags.getByTestId('tag-row').filter({ hasText: 'e2e-owner' });
  await expect(row).toContainText('e2e');
  await row.getByRole('button', { name: 'Edit tag e2e-owner' }).click();
  await page.getByRole('dialog', { name: 'Edit Tag' }).getByLabel('Value').fill('team-β');
  await page.getByRole('dialog', { name: 'Edit Tag' }).getByRole('button', { name: 'Save' }).click();
  await expect(tags.getByTestId('tag-row').filter({ hasText: 'e2e-owner' })).toContainText('team-β');
  await tags.getByRole('button', { name: 'Delete tag e2e-owner' }).click();
  await expect(tags.getByTestId('tag-row').filter({ hasText: 'e2e-owner' })).toHaveCount(0);
});

test('Batch Tag adds a tag to the selected images, which the tag filter then finds', async ({ page }) => {
  const value = `e2e${Date.now().toString(36)}`;
  await loginOk(page, 'globex', 'carol');
  await page.goto('/images/private?sort=name&order=asc');
  await interactive(page);
  await rows(page).nth(0).getByRole('checkbox').check();
  await rows(page).nth(1).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Batch Tag' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Key').fill('wave');
  await dialog.getByLabel('Value').fill(value);
  await dialog.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await page.goto(`/images/private?tag_key=wave&tag_value=${value}`);
  await expect(rows(page)).toHaveCount(2);
});

test('Batch Delete shows what each deletion affects, refuses a protected image by name, and the recycle bin restores', async ({ page }) => {
  await loginOk(page, 'globex', 'carol');
  // Protect one image on its page first.
  await page.goto('/images/private?status=active&sort=name&order=asc');
  const protectedName = (await rows(page).nth(0).locator('.image-name').innerText()).trim();
  const otherName = (await rows(page).nth(1).locator('.image-name').innerText()).trim();
  await rows(page).nth(0).getByRole('link', { name: 'Details' }).click();
  await interactive(page);
  await page.getByRole('switch', { name: 'Deletion protection' }).click();
  await expect(page.getByRole('switch', { name: 'Deletion protection' })).toHaveAttribute('aria-checked', 'true');
  // Its Delete is disabled, and says why.
  const deleteButton = page.locator('.header-actions').getByRole('button', { name: /^Delete/ });
  await expect(deleteButton).toBeDisabled();
  await expect(deleteButton).toHaveAttribute('title', /Deletion protection is on/);

  await page.goto('/images/private?status=active&sort=name&order=asc');
  await interactive(page);
  await rows(page).nth(0).getByRole('checkbox').check();
  await rows(page).nth(1).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Batch Delete' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('impact-row')).toHaveCount(2);
  await expect(dialog.getByTestId('delete-refusal')).toContainText(`'${protectedName}' is protected`);
  await expect(dialog.getByRole('button', { name: 'Delete', exact: true })).toBeDisabled();
  await dialog.getByRole('button', { name: 'Leave Them Out' }).click();
  await expect(dialog.getByTestId('impact-row')).toHaveCount(1);
  await expect(dialog.getByTestId('impact-row')).toContainText(otherName);
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.locator('.image-name', { hasText: new RegExp(`^${otherName}$`) })).toHaveCount(0);

  await page.goto('/images/recycle-bin');
  await interactive(page);
  const recycled = page.getByTestId('recycled-row').filter({ hasText: otherName });
  await expect(recycled.getByTestId('time-left')).toHaveText(/^(7 days|6 days 23 hours)$/);
  await recycled.getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByRole('status')).toContainText('Image restored');
  await expect(page.getByTestId('recycled-row').filter({ hasText: otherName })).toHaveCount(0);
  await page.goto('/images/private?status=active&sort=name&order=asc');
  await expect(page.locator('.image-name', { hasText: new RegExp(`^${otherName}$`) })).toHaveCount(1);
  // Leave the protected image as it was.
  await rows(page).filter({ hasText: protectedName }).getByRole('link', { name: 'Details' }).click();
  await interactive(page);
  await page.getByRole('switch', { name: 'Deletion protection' }).click();
  await expect(page.getByRole('switch', { name: 'Deletion protection' })).toHaveAttribute('aria-checked', 'false');
});

test('@readonly Export List downloads the filtered list as CSV, every row of it', async ({ page }) => {
  await loginOk(page, 'acme', 'alice');
  await page.goto('/images/private?image_type=system&page_size=100');
  const total = await totalCount(page);
  const shown = (await page.locator('.image-name').allInnerTexts()).map((name) => name.trim());
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export List' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^images-private-cn-north-4-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split(/\r\n/);
  expect(lines[0]).toBe('Name,ID,Status,OS,Type,Format,Size (bytes),Min. Disk (GB),Created,Encrypted,Tags');
  expect(lines.length - 1).toBe(total);
  const names = lines.slice(1).map((line) => line.split(',')[0]);
  expect(names).toEqual(shown);
  for (const line of lines.slice(1)) expect(line).toContain(',System disk image,');
});

test('a star marks an image as frequently used, and the Frequently Used filter shows it', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/images/public?sort=name&order=asc');
  await interactive(page);
  const first = rows(page).first();
  const name = (await first.locator('.image-name').innerText()).trim();
  await first.getByTestId('star').click();
  await expect(rows(page).first().getByTestId('star')).toHaveAttribute('aria-pressed', 'true');
  await page.getByLabel('Frequently Used').check();
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/frequently_used=1/);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first().locator('.image-name')).toHaveText(name);
  await interactive(page);
  await rows(page).first().getByTestId('star').click();
  await expect(page.getByTestId('empty-result')).toContainText('No frequently used images');
});

test('@readonly the operation log is the account admin\'s, and the recycle bin renders', async ({ page }) => {
  await loginOk(page, 'acme', 'alice');
  await page.goto('/operation-log');
  await expect(page.getByRole('heading', { name: 'Operation Log' })).toBeVisible();
  await expect(page.getByTestId('operation-row').first()).toContainText('Log in');
  await page.goto('/images/recycle-bin');
  await expect(page.getByRole('heading', { name: 'Images' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Recycle Bin' }).first()).toBeVisible();
  await loginOk(page, 'acme', 'bob');
  await page.goto('/operation-log');
  await expect(page.getByTestId('admin-only')).toBeVisible();
});
