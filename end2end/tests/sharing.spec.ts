import { APIRequestContext, Browser, Page } from '@playwright/test';
import { expect, interactive, loginOk, rows, test } from './helpers';

test.describe.configure({ mode: 'serial' });

const BASE = process.env.IMS_BASE_URL ?? 'http://127.0.0.1:3000';

/** Calls a server function with the page's session, as the console's own forms do. */
async function call(request: APIRequestContext, name: string, form: Record<string, string>) {
  const response = await request.post(`/api/${name}`, { form, headers: { Origin: BASE } });
  expect(response.ok(), `${name}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** A Normal private image with a real file, owned by the logged-in user: an ECS from a public
 *  image, captured. (Set-up through the server functions; the sharing is done in the pages.) */
async function capturedImage(page: Page, name: string): Promise<string> {
  const choices = await call(page.request, 'list_image_choices', { for_disks: 'false' });
  const ubuntu = choices.find((choice: any) => choice.category === 'Public' && choice.name.startsWith('Ubuntu') && choice.boot_mode === 'bios' && choice.architecture === 'x86');
  const [serverId] = await call(page.request, 'create_servers', {
    'request[name]': `${name}-src`, 'request[image_id]': ubuntu.id, 'request[flavor]': 's6.small.1',
  });
  await expect(async () => {
    const detail = await call(page.request, 'get_server', { id: serverId });
    expect(detail.server.status).toBe('running');
  }).toPass({ timeout: 60_000 });
  const imageId = await call(page.request, 'create_image_from_server', {
    'request[server_id]': serverId, 'request[image_type]': 'system', 'request[disk_id]': '', 'request[name]': name,
  });
  await expect(async () => {
    const image = await call(page.request, 'get_image', { id: imageId });
    expect(image.status).toBe('active');
  }).toPass({ timeout: 90_000 });
  return imageId;
}

async function newUser(browser: Browser, account: string, user: string) {
  const context = await browser.newContext({ javaScriptEnabled: test.info().project.name === 'js' });
  const page = await context.newPage();
  await loginOk(page, account, user);
  return { context, page };
}

test('an owner shares an image, the recipient accepts it and makes an ECS, then loses it when sharing stops', async ({ page, browser }) => {
  test.setTimeout(300_000);
  const suffix = Date.now().toString(36);
  const imageName = `e2e-shared-${suffix}`;
  const ecsName = `e2e-from-shared-${suffix}`;
  // The owner is globex, so acme's own lists stay what the other specs expect.
  await loginOk(page, 'globex', 'carol');
  const imageId = await capturedImage(page, imageName);

  // The recipient reads its project id on My Credentials, from the user menu.
  const { context: aliceContext, page: alice } = await newUser(browser, 'acme', 'alice');
  await interactive(alice);
  await alice.getByTestId('current-user').click();
  await alice.getByRole('link', { name: 'My Credentials' }).click();
  await expect(alice.getByRole('heading', { name: 'My Credentials' })).toBeVisible();
  await expect(alice.getByTestId('account-name')).toHaveText('acme');
  const projectRow = alice.getByTestId('project-row').filter({ hasText: 'cn-north-4' });
  const projectId = (await projectRow.getByTestId('project-id').innerText()).trim();
  expect(projectId).toMatch(/^[0-9a-f]{32}$/);

  // The owner shares it from the private list with that project id.
  await page.goto(`/images/private?name=${imageName}`);
  await interactive(page);
  await expect(rows(page)).toHaveCount(1);
  await rows(page).getByRole('button', { name: 'Share' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading', { name: `Share Image "${imageName}"` })).toBeVisible();
  await dialog.getByLabel('Project ID').fill('not-a-project');
  await dialog.getByRole('button', { name: 'Share' }).click();
  await expect(dialog.getByText("'not-a-project' is not a project ID")).toBeVisible();
  await dialog.getByLabel('Project ID').fill(projectId);
  await dialog.getByRole('button', { name: 'Share' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByText(/^Shared \(job/)).toBeVisible();

  // The recipient: a pending banner and a bell, the pending view, Accept.
  await alice.goto('/images/shared');
  await interactive(alice);
  await expect(alice.getByTestId('pending-banner')).toContainText('1 image is waiting for you to accept');
  await expect(alice.getByTestId('notices')).toContainText('1');
  await alice.getByRole('link', { name: 'Review pending images' }).click();
  await expect(alice).toHaveURL(/member_status=pending/);
  await interactive(alice);
  const pendingRow = rows(alice).filter({ hasText: imageName });
  await expect(pendingRow).toHaveCount(1);
  await expect(pendingRow.getByTestId('shared-by')).toHaveText('globex');
  await pendingRow.getByRole('button', { name: 'Accept' }).click();
  await expect(rows(alice).filter({ hasText: imageName })).toHaveCount(0);
  await expect(alice.getByTestId('notices')).toContainText('0');

  // Accepted: an ECS from the shared image.
  await alice.getByRole('link', { name: 'Accepted' }).click();
  await interactive(alice);
  const acceptedRow = rows(alice).filter({ hasText: imageName });
  await expect(acceptedRow).toHaveCount(1);
  await acceptedRow.getByRole('link', { name: 'Apply for ECS' }).click();
  await expect(alice.getByRole('heading', { name: 'Create ECS' })).toBeVisible();
  await interactive(alice);
  await expect(alice.getByLabel('Image', { exact: true })).toHaveValue(imageId);
  await alice.getByLabel('Flavor').selectOption('s6.small.1');
  await alice.getByLabel('Name', { exact: true }).fill(ecsName);
  await alice.getByRole('button', { name: 'Create ECS' }).click();
  await expect(alice).toHaveURL(/\/ecs$/);
  const ecsRow = alice.getByTestId('server-row').filter({ hasText: ecsName });
  await expect(ecsRow.locator('.status')).toContainText('Running', { timeout: 60_000 });

  // The owner's Sharing tab shows the member; Stop Sharing after confirming.
  await page.goto(`/image/${imageId}?tab=sharing`);
  await interactive(page);
  const member = page.getByTestId('member-row');
  await expect(member).toHaveCount(1);
  await expect(member).toContainText(projectId);
  await expect(member).toContainText('acme');
  await expect(member).toContainText('Accepted');
  await member.getByRole('button', { name: 'Stop Sharing' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop Sharing' }).click();
  await expect(page.getByTestId('no-members')).toBeVisible();

  // The recipient has lost it; its ECS keeps running.
  await alice.goto('/images/shared');
  await expect(rows(alice).filter({ hasText: imageName })).toHaveCount(0);
  const response = await alice.goto(`/image/${imageId}`);
  expect(response?.status()).toBe(404);
  await alice.goto('/ecs');
  const keptRow = alice.getByTestId('server-row').filter({ hasText: ecsName });
  await expect(keptRow.locator('.status')).toContainText('Running');
  // Tidy up: acme's ECS and disk counts are what the read-only specs expect.
  const ecsId = (await keptRow.getByRole('link', { name: ecsName }).getAttribute('href'))!.split('/').pop()!;
  await call(alice.request, 'delete_server', { id: ecsId });
  await expect(async () => {
    await alice.reload();
    await expect(alice.getByTestId('server-row').filter({ hasText: ecsName })).toHaveCount(0);
  }).toPass({ timeout: 60_000 });
  await aliceContext.close();
});

test('@readonly My Credentials lists a project per region', async ({ page }) => {
  await loginOk(page, 'globex', 'carol');
  await page.goto('/credentials');
  await expect(page.getByRole('heading', { name: 'My Credentials' })).toBeVisible();
  await expect(page.getByTestId('account-name')).toHaveText('globex');
  await expect(page.getByTestId('project-row')).toHaveCount(2);
  await expect(page.getByTestId('project-row').first()).toContainText(/[0-9a-f]{32}/);
});

test('@readonly KooGallery lists offerings with their publisher and price', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/images/market');
  await expect(page.getByRole('link', { name: 'KooGallery Images', exact: true }).first()).toBeVisible();
  await expect(rows(page)).toHaveCount(4);
  await expect(page.getByTestId('price').filter({ hasText: 'USD 0.05/hour' })).toHaveCount(1);
  await expect(page.getByTestId('price').filter({ hasText: 'Free' })).toHaveCount(2);
  await rows(page).filter({ hasText: 'WordPress' }).getByRole('link', { name: 'Details' }).click();
  await expect(page.getByTestId('offering-price')).toHaveText('USD 0.05/hour');
});

test('@readonly the shared views and the account settings render', async ({ page }) => {
  await loginOk(page, 'acme', 'bob');
  await page.goto('/images/shared?member_status=rejected');
  await expect(page.getByTestId('empty-result')).toHaveText('You have not rejected any shared image.');
  await page.goto('/account/settings');
  await expect(page.getByRole('heading', { name: 'Image Sharing Policy' })).toBeVisible();
  await expect(page.getByText('Only an account admin can change the sharing policy.')).toBeVisible();
  await expect(page.getByLabel('Share with any project')).toBeChecked();
  await page.goto('/subscriptions');
  await expect(page.getByTestId('no-subscriptions')).toBeVisible();
});

test('a paid KooGallery image asks for its price before the ECS', async ({ page }) => {
  test.setTimeout(120_000);
  const name = `e2e-paid-${Date.now().toString(36)}`;
  await loginOk(page, 'globex', 'carol');
  await page.goto('/images/market');
  await interactive(page);
  await rows(page).filter({ hasText: 'WordPress' }).getByRole('link', { name: 'Apply for ECS' }).click();
  await interactive(page);
  await page.getByLabel('Flavor').selectOption('s6.small.1');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(page.getByText('Accept its price to continue')).toBeVisible();
  await page.getByLabel('Image price').check();
  await page.getByRole('button', { name: 'Create ECS' }).click();
  await expect(page).toHaveURL(/\/ecs$/);
  await page.getByTestId('server-row').filter({ hasText: name }).getByRole('link', { name }).click();
  await expect(page.getByText('USD 0.05/hour (KooGallery image)')).toBeVisible();
  await page.goto('/subscriptions');
  await expect(page.getByTestId('subscription-row').filter({ hasText: 'WordPress' })).toHaveCount(1);
});
