import { expect, login, loginOk, submitLogin, test } from './helpers';

test('@readonly log in and log out', async ({ page }) => {
  await page.goto('/images/private');
  await expect(page).toHaveURL(/\/login\?next=/);
  await submitLogin(page, 'acme', 'alice');
  await expect(page).toHaveURL(/\/images\/private$/);
  await expect(page.getByTestId('current-user')).toHaveText('acme / alice');
  await expect(page.locator('.role-badge')).toHaveText('admin');
  await page.getByTestId('current-user').click();
  await page.getByRole('button', { name: 'Log Out' }).click();
  await expect(page.getByRole('alert')).toHaveText('You have logged out.');
  await page.goto('/images/private');
  await expect(page).toHaveURL(/\/login/);
});

test('@readonly a wrong password is refused', async ({ page }) => {
  await login(page, 'acme', 'alice', 'wrong-password');
  await expect(page.getByRole('alert')).toHaveText('The account name, user name or password is incorrect.');
  await expect(page.getByLabel('Account name')).toHaveValue('acme');
  await expect(page.getByLabel('User name')).toHaveValue('alice');
  await page.getByLabel('Account name').fill('acme');
  await page.getByLabel('User name').fill('');
  await page.getByLabel('Password').fill('whatever');
  await page.getByRole('button', { name: 'Log In' }).click();
  await expect(page.getByText('Enter the user name.')).toBeVisible();
});

test('@readonly repeated failures are throttled', async ({ page }, testInfo) => {
  // A user of its own per project, so the lock does not leak into other specs.
  const user = `mallory-${testInfo.project.name}`;
  for (let attempt = 1; attempt <= 5; attempt++) {
    await login(page, 'acme', user, `guess-${attempt}`);
    await expect(page.getByRole('alert')).toHaveText('The account name, user name or password is incorrect.');
  }
  await login(page, 'acme', user, 'guess-6');
  await expect(page.getByRole('alert')).toHaveText('Too many failed login attempts. Try again in 15 minutes.');
  // Other users still get in.
  await loginOk(page, 'acme', 'bob');
});
