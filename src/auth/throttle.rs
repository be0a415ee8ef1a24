//! Login throttling, kept in the database so every server instance sees the same counters.
//!
//! Each attempt is counted with one atomic statement *before* the password is checked, so
//! any number of concurrent guesses gets at most `max_attempts` verifications per window.
//! Counters are per user *and* address (a stranger cannot lock alice out from everywhere)
//! and per address across users; each lockout in a row lasts twice as long as the last.

use crate::db::{now_ms, Db};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug)]
pub struct ThrottleRule {
    pub max_attempts: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
    pub max_lock_ms: i64,
}

impl ThrottleRule {
    /// The lock after `lockouts` earlier ones: doubling, up to `max_lock_ms`.
    pub fn lock_for(self, lockouts: i64) -> i64 {
        self.lock_ms.saturating_mul(1 << lockouts.clamp(0, 20)).min(self.max_lock_ms)
    }
}

/// Five wrong passwords for one user from one address within 15 minutes lock that pair for
/// 15 minutes, then 30, 60, ... up to a day.
pub const PER_USER_ADDRESS: ThrottleRule =
    ThrottleRule { max_attempts: 5, window_ms: 15 * 60_000, lock_ms: 15 * 60_000, max_lock_ms: 24 * 3_600_000 };
/// One address may fail 30 times in 15 minutes, across all users.
pub const PER_ADDRESS: ThrottleRule =
    ThrottleRule { max_attempts: 30, window_ms: 15 * 60_000, lock_ms: 15 * 60_000, max_lock_ms: 24 * 3_600_000 };

pub fn user_address_key(account: &str, user: &str, address: &IpAddr) -> String {
    format!("user:{}/{}@{address}", account.trim().to_lowercase(), user.trim().to_lowercase())
}

pub fn address_key(address: &IpAddr) -> String {
    format!("addr:{address}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Milliseconds until the key may try again.
    LockedFor(i64),
}

/// Counts one attempt against `key` and says whether it may go on to the password check.
/// Attempts while locked are refused without counting, so the lock's end starts afresh.
pub async fn admit(db: &Db, key: &str, rule: ThrottleRule) -> Result<Admission, sqlx::Error> {
    let now = now_ms();
    let (attempts, locked_until, lockouts): (i64, i64, i64) = sqlx::query_as(
        "INSERT INTO login_throttle (throttle_key, failures, window_started_at, locked_until, lockouts) \
         VALUES ($1, 1, $2, 0, 0) ON CONFLICT (throttle_key) DO UPDATE SET \
         failures = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.failures \
             WHEN login_throttle.window_started_at > $3 THEN login_throttle.failures + 1 ELSE 1 END, \
         window_started_at = CASE WHEN login_throttle.locked_until > $2 OR login_throttle.window_started_at > $3 \
             THEN login_throttle.window_started_at ELSE $2 END \
         RETURNING failures, locked_until, lockouts",
    )
    .bind(key)
    .bind(now)
    .bind(now - rule.window_ms)
    .fetch_one(db)
    .await?;
    if locked_until > now {
        return Ok(Admission::LockedFor(locked_until - now));
    }
    if attempts <= rule.max_attempts {
        return Ok(Admission::Allowed);
    }
    let lock = rule.lock_for(lockouts);
    // The first attempt over the limit sets the lock; concurrent ones find it set.
    sqlx::query(
        "UPDATE login_throttle SET locked_until = $2, lockouts = lockouts + 1, failures = 0, window_started_at = $3 \
         WHERE throttle_key = $1 AND locked_until <= $3",
    )
    .bind(key)
    .bind(now + lock)
    .bind(now)
    .execute(db)
    .await?;
    Ok(Admission::LockedFor(lock))
}

/// Takes back one counted attempt (a right password, or one never checked).
pub async fn forgive(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = $1 AND failures > 0")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1").bind(key).execute(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lockout_in_a_row_doubles_up_to_a_day() {
        let rule = PER_USER_ADDRESS;
        assert_eq!(rule.lock_for(0), 15 * 60_000);
        assert_eq!(rule.lock_for(1), 30 * 60_000);
        assert_eq!(rule.lock_for(3), 120 * 60_000);
        assert_eq!(rule.lock_for(40), 24 * 3_600_000);
    }

    #[test]
    fn keys_ignore_case_and_spaces() {
        let address = "127.0.0.1".parse().unwrap();
        assert_eq!(user_address_key(" Acme ", "Alice", &address), "user:acme/alice@127.0.0.1");
        assert_eq!(address_key(&address), "addr:127.0.0.1");
    }
}
