import { expect, test as base, Page } from '@playwright/test';

export { expect };

/** The Playwright test, failing any test during which the page threw or logged an error
 *  (a hydration failure shows up here). HTTP error statuses the test asked for are not errors. */
export const test = base.extend<{ failOnBrowserErrors: void }>({
  failOnBrowserErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
          errors.push(message.text());
        }
      });
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});

export const PASSWORD = process.env.IMS_DEMO_PASSWORD ?? 'demo-password';

export async function login(page: Page, account: string, user: string, password = PASSWORD) {
  await page.goto('/login');
  await submitLogin(page, account, user, password);
}

/** Fills and sends the login form of the page that is open. */
export async function submitLogin(page: Page, account: string, user: string, password = PASSWORD) {
  await page.getByLabel('Account name').fill(account);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log In' }).click();
}

export async function loginOk(page: Page, account: string, user: string) {
  await login(page, account, user);
  await expect(page.getByTestId('current-user')).toHaveText(`${account} / ${user}`);
}

/** The number after "Total Records:" under the list. */
export async function totalCount(page: Page): Promise<number> {
  const text = await page.getByTestId('total-count').innerText();
  return Number(text.replace(/\D+/g, ''));
}

export function rows(page: Page) {
  return page.getByTestId('image-row');
}

/** Column values of the current page, by header text. */
export async function column(page: Page, header: string): Promise<string[]> {
  const headers = await page.locator('.image-table thead th').allInnerTexts();
  const index = headers.findIndex((text) => text.replace(/[↑↓]/g, '').trim() === header);
  expect(index, `column ${header}`).toBeGreaterThanOrEqual(0);
  return page.locator(`.image-table tbody tr[data-testid="image-row"] td:nth-child(${index + 1})`).allInnerTexts();
}

/** With JavaScript on, waits until the WASM has hydrated the page, so clicks reach its handlers. */
export async function interactive(page: Page) {
  if (base.info().project.name === 'js') {
    await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
  }
}

/** Reloads until `check` passes: for pages that show state changed by background jobs. */
export async function eventually(page: Page, check: () => Promise<void>) {
  await expect(async () => {
    await page.reload();
    await interactive(page);
    await check();
  }).toPass({ timeout: 60_000 });
}

/** Switches the region with the header's switcher (its button shows only without JavaScript). */
export async function switchRegion(page: Page, region: string, note: string) {
  await page.locator('#region-select').selectOption(region);
  const switchButton = page.getByRole('button', { name: 'Switch' });
  if (await switchButton.isVisible()) await switchButton.click();
  await expect(page.locator('.region-note')).toHaveText(note);
}
