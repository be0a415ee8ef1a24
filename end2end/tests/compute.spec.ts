import { Page } from '@playwright/test';
import { eventually, expect, interactive, loginOk, test } from './helpers';

test.describe.configure({ mode: 'serial' });

function serverRow(page: Page, name: string) {
  return page.getByTestId('server-row').filter({ has: page.getByRole('link', { name, exact: true }) });
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
  await expect(serverRow(page, web).locator('.status')).toContainText('Running', { timeout: 60_000 });

  // Put known bytes on its system disk, then capture it as a private image.
  await serverRow(page, web).getByRole('link', { name: web }).click();
  await expect(page.getByTestId('server-name')).toHaveText(web);
  await interactive(page);
  await expect(page.getByTestId('disk-row')).toHaveCount(2);
  await writeAndRead(page, marker, marker);
  const files = page.locator('section', { has: page.getByRole('heading', { name: 'Files' }) });
  await files.getByLabel('Contents').fill(`motd of ${web}`);
  await files.getByRole('button', { name: 'Write File' }).click();
  await expect(files.getByText('File written.')).toBeVisible();
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
  await expect(serverRow(page, copy).locator('.status')).toContainText('Running', { timeout: 60_000 });

  // The copy's system disk holds the bytes written into the first ECS.
  await serverRow(page, copy).getByRole('link', { name: copy }).click();
  await expect(page.getByTestId('server-name')).toHaveText(copy);
  await interactive(page);
  await writeAndRead(page, null, marker);
  const copyFiles = page.locator('section', { has: page.getByRole('heading', { name: 'Files' }) });
  await copyFiles.locator('#file-read-path').fill('/etc/motd');
  await copyFiles.getByRole('button', { name: 'Read File' }).click();
  await expect(copyFiles.getByTestId('file-text')).toHaveText(`motd of ${web}`);

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
  await expect(page.getByRole('dialog').getByTestId('impact-servers')).toContainText('1 ECS: e2e-copy-');
  await expect(page.getByRole('dialog')).toContainText('cannot be reinstalled from them');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
});

async function createServer(page: Page, name: string, image: { label?: string }, dataDisks = '') {
  await page.goto('/ecs/create');
  await interactive(page);
  if (image.label) {
    await page.getByLabel('Image', { exact: true }).selectOption({ label: image.label });
  }
  await page.getByLabel('Flavor').selectOption('s6.small.1');
  await page.getByLabel('Data disks (GB)').fill(dataDisks);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(page).toHaveURL(/\/ecs$/);
  await expect(serverRow(page, name).locator('.status')).toContainText('Running', { timeout: 60_000 });
  await serverRow(page, name).getByRole('link', { name }).click();
  await expect(page.getByTestId('server-name')).toHaveText(name);
  await interactive(page);
}

async function publicUbuntu(page: Page): Promise<string> {
  await page.goto('/ecs/create');
  const labels = await page.locator('#server-image optgroup[label="Public images"] option').allInnerTexts();
  return labels.find((label) => label.startsWith('Ubuntu') && !label.includes('('))!;
}

test('data disk and full-ECS images, a disk and an ECS from them, and a change of OS', async ({ page }) => {
  test.setTimeout(240_000);
  const suffix = Date.now().toString(36);
  const [source, dataImage, wholeImage, restored, clone] =
    [`e2e-src-${suffix}`, `e2e-data-${suffix}`, `e2e-whole-${suffix}`, `e2e-restored-${suffix}`, `e2e-clone-${suffix}`];
  await loginOk(page, 'globex', 'carol');
  const ubuntu = await publicUbuntu(page);
  await createServer(page, source, { label: ubuntu }, '10');

  // Known bytes on the data disk, then a data disk image and a full-ECS image.
  const content = page.locator('section', { has: page.getByRole('heading', { name: 'Disk Content' }) });
  await content.locator('#write-disk').selectOption({ label: `${source}-data-1 (/dev/vdb, 10 GB, data)` });
  await content.getByLabel('Text').fill(`data of ${source}`);
  await content.getByRole('button', { name: 'Write' }).click();
  await expect(content.getByText('Written.')).toBeVisible();
  const capture = page.locator('section', { has: page.getByRole('heading', { name: 'Create Image' }) });
  await capture.getByLabel('Image type').selectOption('data');
  await capture.getByLabel('Data disk').selectOption({ label: `${source}-data-1 (/dev/vdb, 10 GB, data)` });
  await capture.getByLabel('Name').fill(dataImage);
  await capture.getByRole('button', { name: 'Create Image' }).click();
  await expect(capture.getByText('Image creation started')).toBeVisible();
  await capture.getByLabel('Image type').selectOption('full_ecs');
  await capture.getByLabel('Name').fill(wholeImage);
  await capture.getByRole('button', { name: 'Create Image' }).click();
  await expect(capture.getByText('Image creation started')).toBeVisible();

  // An EVS disk from the data disk image, with the bytes.
  await page.goto('/images/private');
  const dataRow = page.getByTestId('image-row').filter({ hasText: dataImage });
  await eventually(page, async () => {
    await expect(dataRow.getByRole('link', { name: 'Create Disk' })).toBeVisible();
  });
  await dataRow.getByRole('link', { name: 'Create Disk' }).click();
  await interactive(page);
  await expect(page.getByLabel('Data source')).toHaveValue(/.+/);
  await page.getByLabel('Name').fill(restored);
  await page.getByRole('button', { name: 'Create Disk' }).click();
  await expect(page.getByTestId('evs-row').filter({ hasText: restored })).toContainText('Available', { timeout: 60_000 });

  // An ECS from the full-ECS image gets the data disk back, bytes included.
  await page.goto('/images/private');
  const wholeRow = page.getByTestId('image-row').filter({ hasText: wholeImage });
  await eventually(page, async () => {
    await expect(wholeRow).toContainText('Normal');
  });
  await wholeRow.getByRole('link', { name: 'Apply for ECS' }).click();
  await interactive(page);
  await expect(page.getByLabel('Image', { exact: true })).toHaveValue(/.+/);
  await page.getByLabel('Flavor').selectOption('s6.small.1');
  await page.getByLabel('Name', { exact: true }).fill(clone);
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(serverRow(page, clone).locator('.status')).toContainText('Running', { timeout: 60_000 });
  await serverRow(page, clone).getByRole('link', { name: clone }).click();
  await expect(page.getByTestId('server-name')).toHaveText(clone);
  await interactive(page);
  await expect(page.getByTestId('disk-row')).toHaveCount(2);
  const cloneContent = page.locator('section', { has: page.getByRole('heading', { name: 'Disk Content' }) });
  await cloneContent.locator('#read-disk').selectOption({ label: `${clone}-data-1 (/dev/vdb, 10 GB, data)` });
  await cloneContent.getByRole('button', { name: 'Read' }).click();
  await expect(cloneContent.getByTestId('disk-text')).toContainText(`data of ${source}`);

  // Change its OS to the public image: refused while running, done once stopped.
  const changeOs = page.locator('section', { has: page.getByRole('heading', { name: 'Change OS' }) });
  await changeOs.getByLabel('Image').selectOption({ label: `${ubuntu} (Public)` });
  await changeOs.getByRole('button', { name: 'Change OS' }).click();
  await expect(changeOs.locator('.field-error')).toContainText('Stop it before changing its OS');
  await page.locator('.header-actions').getByRole('button', { name: 'Stop' }).click();
  await expect(page.locator('.page-header .status')).toContainText('Stopped', { timeout: 30_000 });
  await changeOs.getByRole('button', { name: 'Change OS' }).click();
  await expect(page.locator('.page-header .status')).toContainText('Running', { timeout: 60_000 });
  await expect(page.locator('.attribute', { hasText: 'Image' }).first()).toContainText(ubuntu);
  await expect(page.getByTestId('disk-row')).toHaveCount(2);
});

test('@readonly a viewer sees ECSs and their disks without operations', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/ecs');
  await expect(page.getByRole('heading', { name: 'Elastic Cloud Servers' })).toBeVisible();
  await expect(serverRow(page, 'acme-db-01')).toContainText('c6.xlarge.2');
  await expect(serverRow(page, 'acme-web-01')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Create ECS' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await page.getByRole('searchbox', { name: 'Name' }).fill('DB');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/name=DB/);
  await expect(page.getByTestId('server-row')).toHaveCount(1);
  await expect(serverRow(page, 'acme-db-01')).toBeVisible();
  await page.getByRole('link', { name: 'Reset' }).click();
  await expect(page.getByTestId('server-row')).toHaveCount(2);
  await serverRow(page, 'acme-db-01').getByRole('link', { name: 'acme-db-01' }).click();
  await expect(page.getByTestId('server-name')).toHaveText('acme-db-01');
  await expect(page.getByTestId('disk-row')).toHaveCount(2);
  await expect(page.getByRole('heading', { name: 'Create Image' })).toHaveCount(0);
  await page.goto('/disks');
  await expect(page.getByTestId('evs-row')).toHaveCount(3);
  await expect(page.getByRole('button', { name: 'Create Disk' })).toHaveCount(0);
});
