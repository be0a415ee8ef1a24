import { column, expect, interactive, loginOk, rows, test, totalCount } from './helpers';

test.beforeEach(async ({ page }) => {
  await loginOk(page, 'acme', 'alice');
});

test('@readonly the three tabs list public, private and shared images', async ({ page }) => {
  await page.goto('/images/public');
  await expect(page.getByRole('heading', { name: 'Images' })).toBeVisible();
  expect(await totalCount(page)).toBeGreaterThan(20);
  await expect(page.locator('.breadcrumb')).toContainText('Computing');
  await expect(page.locator('.breadcrumb')).toContainText('Image Management Service');
  for (const header of ['Name/ID', 'Status', 'OS Type', 'OS', 'Image Type', 'Disk Format', 'Size', 'Min. Disk', 'Created', 'Encrypted', 'Operation']) {
    await expect(page.locator('.image-table thead')).toContainText(header);
  }
  await page.getByRole('link', { name: 'Private Images' }).first().click();
  await expect(page).toHaveURL(/\/images\/private$/);
  await expect(page.getByTestId('total-count')).toHaveText('Total Records: 15');
  // globex shares its portal image with acme in the demo, and acme accepted it.
  await page.goto('/images/shared');
  await expect(page.getByTestId('shared-by').first()).toHaveText('globex');
});

test('@readonly every filter narrows the list and stays in the URL', async ({ page }) => {
  await page.goto('/images/private');
  const all = await totalCount(page);

  await page.getByLabel('Status').selectOption('killed');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/status=killed/);
  const failed = await totalCount(page);
  expect(failed).toBeGreaterThan(0);
  expect(failed).toBeLessThan(all);
  expect(new Set(await column(page, 'Status'))).toEqual(new Set(['Failed']));

  await page.goto('/images/private');
  await page.getByLabel('Image type').selectOption('data');
  await page.getByRole('button', { name: 'Search' }).click();
  expect(new Set(await column(page, 'Image Type'))).toEqual(new Set(['Data disk image']));

  await page.goto('/images/private');
  await page.getByLabel('Name').fill('WEB-front');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/name=WEB-front/);
  const names = await page.locator('.image-name').allInnerTexts();
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(name).toContain('web-frontend');

  await page.goto('/images/public');
  await page.getByLabel('OS type').selectOption('Windows');
  await page.getByRole('button', { name: 'Search' }).click();
  expect(new Set(await column(page, 'OS Type'))).toEqual(new Set(['Windows']));

  await page.goto('/images/public');
  await page.getByLabel('OS platform').selectOption('Debian');
  await page.getByRole('button', { name: 'Search' }).click();
  for (const os of await column(page, 'OS')) expect(os).toContain('Debian');

  await page.goto('/images/private');
  await page.getByLabel('Tag key').fill('env');
  await page.getByLabel('Tag value').fill('prod');
  await page.getByRole('button', { name: 'Search' }).click();
  const prod = await totalCount(page);
  expect(prod).toBeGreaterThan(0);
  expect(prod).toBeLessThan(all);
  await page.locator('.image-name').first().click();
  await expect(page.locator('.tag-table')).toContainText('prod');

  await page.goto('/images/private?created_to=2000-01-01');
  await expect(page.getByTestId('empty-result')).toHaveText('No images match these filters.');
  await page.goto('/images/private?created_from=2000-01-01');
  expect(await totalCount(page)).toBe(all);

  await page.goto('/images/private?name=no-such-image-anywhere');
  await expect(page.getByTestId('empty-result')).toHaveText('No images match these filters.');
  await page.getByRole('link', { name: 'Reset' }).click();
  await expect(page.getByTestId('total-count')).toHaveText(`Total Records: ${all}`);
});

test('@readonly sorting, pagination and page size, with reload and back', async ({ page }) => {
  await page.goto('/images/private');
  await interactive(page);
  await page.getByRole('link', { name: /^Size/ }).click();
  await expect(page).toHaveURL(/sort=size&order=desc/);
  // With JavaScript the router swaps the list in place: wait until it shows the new order.
  await expect(page.locator('th[aria-sort="descending"]')).toContainText('Size');
  const bytes = await page.locator('.image-table tbody td[data-bytes]').evaluateAll((cells) => cells.map((cell) => Number(cell.getAttribute('data-bytes'))));
  expect(bytes).toEqual([...bytes].sort((a, b) => b - a));

  await page.getByRole('link', { name: /^Name\/ID/ }).click();
  await expect(page).toHaveURL(/sort=name&order=asc/);
  await expect(page.locator('th[aria-sort="ascending"]')).toContainText('Name/ID');
  const names = await page.locator('.image-name').allInnerTexts();
  expect(names).toEqual([...names].sort());

  await page.getByRole('link', { name: 'Next ›' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.locator('.page-link.current')).toHaveText('2');
  const secondPage = await page.locator('.image-name').allInnerTexts();
  expect(secondPage.some((name) => names.includes(name))).toBe(false);

  await page.reload();
  await interactive(page);
  await expect(page.locator('.page-link.current')).toHaveText('2');
  await expect(page.locator('.image-name')).toHaveText(secondPage);

  await page.goBack();
  await expect(page).not.toHaveURL(/page=2/);
  await expect(page.locator('.image-name')).toHaveText(names);

  await page.goto('/images/private?sort=name&order=asc');
  await interactive(page);
  await page.locator('#page-size').selectOption('20');
  const apply = page.getByRole('button', { name: 'Apply' });
  if (await apply.isVisible()) await apply.click();
  await expect(page).toHaveURL(/page_size=20/);
  await expect(rows(page)).toHaveCount(Math.min(20, await totalCount(page)));
  await expect(page).toHaveURL(/sort=name/);

  // A pasted link shows the same view in a fresh page.
  const link = page.url();
  const fresh = await page.context().newPage();
  await fresh.goto(link);
  expect(await fresh.locator('.image-name').allInnerTexts()).toEqual(await page.locator('.image-name').allInnerTexts());
  await fresh.close();
});

test('@readonly a bad URL parameter gets a clear error', async ({ page }) => {
  await page.goto('/images/private?page_size=37');
  await expect(page.getByRole('alert')).toHaveText("Page size '37' is not offered. Choose 10, 20, 50 or 100.");
});

test('@readonly the detail page shows the image model and tags', async ({ page }) => {
  await page.goto('/images/private?tag_key=env&sort=name&order=asc');
  const name = await page.locator('.image-name').first().innerText();
  await page.locator('.image-name').first().click();
  await expect(page).toHaveURL(/\/image\//);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  for (const label of ['ID', 'Image Type', 'OS Type', 'Boot Mode', 'Architecture', 'Disk Format', 'Min. Disk', 'Min. Memory', 'Visibility', 'Encrypted', 'Protected', 'Owner Project', 'Created']) {
    await expect(page.locator('.attributes dt', { hasText: new RegExp(`^${label.replace('.', '\\.')}$`) })).toHaveCount(1);
  }
  await expect(page.locator('.tag-table')).toContainText('env');
  await page.getByRole('link', { name: '‹ Back' }).click();
  await expect(page).toHaveURL(/\/images\/private$/);
});
