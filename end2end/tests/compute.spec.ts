import { Page } from '@playwright/test';
import { expect, interactive, loginOk, test } from './helpers';

test.describe.configure({ mode: 'serial' });

function serverRow(page: Page, name: string) {
  return page.getByTestId('server-row').filter({ has: page.getByRole('link', { name, exact: true }) });
}

/** Reloads until `check` passes: for pages that show state changed by background jobs. */
async function eventually(page: Page, check: () => Promise<void>) {
  await expect(async () => {
    await page.reload();
    await interactive(page);
    await check();
  }).toPass({ timeout: 60_000 });
}

async function writeAndRead(page: Page, text: string | null, expected: string) {
  const panel = page.locator('section', { has: page.getByRole('heading', { name: 'Disk Content' }) });
  if (text !== null) {
    await panel.getByLabel('Text').fill(text);
    await panel.getByRole('button', { name: 'Write' }).click();
    await expect(panel.getByText('Written.')).toBeVisible();
  }
  await panel.getByRole('button', { name: 'Read' }).click();
  await expect(panel.getByTestId('disk-text')).toContainText(expected);
}

test('an ECS from a public image, an image from the ECS, and an ECS from that image with the same bytes', async ({ page }) => {
  test.setTimeout(240_000);
  const suffix = Date.now().toString(36);
  const [web, copy, imageName, diskName] = [`e2e-web-${suffix}`, `e2e-copy-${suffix}`, `e2e-image-${suffix}`, `e2e-disk-${suffix}`];
  const marker = `bytes of ${web}`;
  // globex's account, so acme's counts stay what the other specs expect.
  await loginOk(page, 'globex', 'carol');

  await page.goto('/ecs');
  await page.getByRole('link', { name: 'Create ECS' }).click();
  await expect(page.getByRole('heading', { name: 'Create ECS' })).toBeVisible();
  await interactive(page);
  const labels = await page.locator('#server-image optgroup[label="Public images"] option').allInnerTexts();
  const ubuntu = labels.find((label) => label.startsWith('Ubuntu') && !label.includes('('));
  expect(ubuntu, 'a public Ubuntu image in BIOS mode').toBeTruthy();
  await page.getByLabel('Image', { exact: true }).selectOption({ label: ubuntu! });
  await expect(page.getByTestId('image-needs')).toContainText('a system disk of at least 40 GB');
  await page.getByLabel('Flavor').selectOption('s6.medium.2');
  await page.getByLabel('Data disks (GB)').fill('10');
  await page.getByLabel('Name', { exact: true }).fill(web);
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(page).toHaveURL(/\/ecs$/);
  await expect(serverRow(page, web)).toContainText('Running', { timeout: 60_000 });

  // Put known bytes on its system disk, then capture it as a private image.
  await serverRow(page, web).getByRole('link', { name: web }).click();
  await expect(page.getByTestId('server-name')).toHaveText(web);
  await interactive(page);
  await expect(page.getByTestId('disk-row')).toHaveCount(2);
  await writeAndRead(page, marker, marker);
  const capture = page.locator('section', { has: page.getByRole('heading', { name: 'Create Image' }) });
  await capture.getByLabel('Name').fill(imageName);
  await capture.getByRole('button', { name: 'Create Image' }).click();
  await expect(capture.getByText('Image creation started')).toBeVisible();
  await capture.getByRole('link', { name: 'Open the image' }).click();
  await expect(page.getByRole('heading', { name: imageName })).toBeVisible();
  await eventually(page, async () => {
    await expect(page.getByRole('link', { name: 'Apply for ECS' })).toBeVisible();
  });
  await expect(page.locator('.attribute', { hasText: 'Image Type' })).toContainText('System disk image');

  // A new ECS from the private image: a too small disk is refused next to its field.
  await page.getByRole('link', { name: 'Apply for ECS' }).click();
  await interactive(page);
  await expect(page.getByTestId('image-needs')).toContainText('at least 40 GB');
  await page.getByLabel('Flavor').selectOption('s6.small.1');
  await page.getByLabel('System disk (GB)').fill('10');
  await page.getByLabel('Name', { exact: true }).fill(copy);
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(page.locator('.field-error')).toContainText('needs a system disk of at least 40 GB');
  await page.getByLabel('System disk (GB)').fill('40');
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(page).toHaveURL(/\/ecs$/);
  await expect(serverRow(page, copy)).toContainText('Running', { timeout: 60_000 });

  // The copy's system disk holds the bytes written into the first ECS.
  await serverRow(page, copy).getByRole('link', { name: copy }).click();
  await expect(page.getByTestId('server-name')).toHaveText(copy);
  await interactive(page);
  await writeAndRead(page, null, marker);

  // An EVS disk, attached and detached.
  await page.goto('/disks');
  await interactive(page);
  await page.getByLabel('Name').fill(diskName);
  await page.getByLabel('Capacity (GB)').fill('10');
  await page.getByRole('button', { name: 'Create Disk' }).click();
  await expect(page.getByTestId('evs-row').filter({ hasText: diskName })).toContainText('Available');
  await page.goBack();
  await expect(page.getByTestId('server-name')).toHaveText(copy);
  await interactive(page);
  const attach = page.locator('section', { has: page.getByRole('heading', { name: 'Attach Disk' }) });
  await attach.getByLabel('Available EVS disk').selectOption({ label: `${diskName} (10 GB)` });
  await attach.getByRole('button', { name: 'Attach' }).click();
  const attached = page.getByTestId('disk-row').filter({ hasText: diskName });
  await expect(attached).toContainText('/dev/vdb');
  await attached.getByRole('button', { name: 'Detach' }).click();
  await expect(attached).toHaveCount(0);

  // Stop it: the status goes through Stopping to Stopped.
  await page.locator('.header-actions').getByRole('button', { name: 'Stop' }).click();
  await expect(page.locator('.page-header .status')).toContainText('Stopped', { timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Reinstall OS' })).toBeEnabled();

  // Deleting the image warns about the ECS made from it.
  await page.goto('/images/private');
  await interactive(page);
  const imageRow = page.getByTestId('image-row').filter({ hasText: imageName });
  await imageRow.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('dialog')).toContainText('1 ECS was created from image');
  await expect(page.getByRole('dialog')).toContainText('can no longer be reinstalled');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
});

test('@readonly a viewer sees ECSs and their disks without operations', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/ecs');
  await expect(page.getByRole('heading', { name: 'Elastic Cloud Servers' })).toBeVisible();
  await expect(serverRow(page, 'acme-db-01')).toContainText('c6.xlarge.2');
  await expect(serverRow(page, 'acme-web-01')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Create ECS' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await serverRow(page, 'acme-db-01').getByRole('link', { name: 'acme-db-01' }).click();
  await expect(page.getByTestId('server-name')).toHaveText('acme-db-01');
  await expect(page.getByTestId('disk-row')).toHaveCount(2);
  await expect(page.getByRole('heading', { name: 'Create Image' })).toHaveCount(0);
  await page.goto('/disks');
  await expect(page.getByTestId('evs-row')).toHaveCount(3);
  await expect(page.getByRole('button', { name: 'Create Disk' })).toHaveCount(0);
});
