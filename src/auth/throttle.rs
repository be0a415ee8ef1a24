//! Failed-login throttling, per account+user and per client address, kept in the database so
//! that every server instance sees the same counters.

use crate::db::{now_ms, Db};

#[derive(Clone, Copy, Debug)]
pub struct ThrottleRule {
    pub max_failures: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}

/// Five wrong passwords for one user within 15 minutes lock that user for 15 minutes.
pub const PER_USER: ThrottleRule = ThrottleRule { max_failures: 5, window_ms: 15 * 60_000, lock_ms: 15 * 60_000 };
/// One client address may fail 30 times in 15 minutes, across all users.
pub const PER_ADDRESS: ThrottleRule = ThrottleRule { max_failures: 30, window_ms: 15 * 60_000, lock_ms: 15 * 60_000 };

pub fn user_key(account: &str, user: &str) -> String {
    format!("user:{}/{}", account.trim().to_lowercase(), user.trim().to_lowercase())
}

pub fn address_key(address: &std::net::IpAddr) -> String {
    format!("addr:{address}")
}

/// Milliseconds until `key` may try again, if it is locked now.
pub async fn locked_for(db: &Db, key: &str) -> Result<Option<i64>, sqlx::Error> {
    let now = now_ms();
    let locked_until: Option<i64> =
        sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(locked_until.filter(|until| *until > now).map(|until| until - now))
}

/// The counter state after one more failure.
pub fn next_state(rule: ThrottleRule, now: i64, current: Option<(i64, i64)>) -> (i64, i64, i64) {
    let (failures, window_started_at) = match current {
        Some((failures, started)) if now - started < rule.window_ms => (failures + 1, started),
        _ => (1, now),
    };
    let locked_until = if failures >= rule.max_failures { now + rule.lock_ms } else { 0 };
    (failures, window_started_at, locked_until)
}

pub async fn record_failure(db: &Db, key: &str, rule: ThrottleRule) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let mut transaction = db.begin().await?;
    let current: Option<(i64, i64)> =
        sqlx::query_as("SELECT failures, window_started_at FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(&mut *transaction)
            .await?;
    let (failures, window_started_at, locked_until) = next_state(rule, now, current);
    sqlx::query(
        "INSERT INTO login_throttle (throttle_key, failures, window_started_at, locked_until) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (throttle_key) DO UPDATE SET \
         failures = excluded.failures, window_started_at = excluded.window_started_at, \
         locked_until = excluded.locked_until",
    )
    .bind(key)
    .bind(failures)
    .bind(window_started_at)
    .bind(locked_until)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await
}

pub async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1").bind(key).execute(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_last_allowed_failure() {
        let mut state = None;
        for attempt in 1..PER_USER.max_failures {
            let (failures, started, locked) = next_state(PER_USER, 1_000, state);
            assert_eq!(failures, attempt);
            assert_eq!(locked, 0, "not locked after {attempt} failures");
            state = Some((failures, started));
        }
        let (_, _, locked) = next_state(PER_USER, 1_000, state);
        assert_eq!(locked, 1_000 + PER_USER.lock_ms);
    }

    #[test]
    fn an_old_window_starts_over() {
        let late = 1_000 + PER_USER.window_ms;
        assert_eq!(next_state(PER_USER, late, Some((4, 1_000))), (1, late, 0));
    }

    #[test]
    fn keys_ignore_case_and_spaces() {
        assert_eq!(user_key(" Acme ", "Alice"), "user:acme/alice");
        assert_eq!(address_key(&"127.0.0.1".parse().unwrap()), "addr:127.0.0.1");
    }
}
