-- Lockouts in a row of one throttle key: each lasts twice as long as the last.
ALTER TABLE login_throttle ADD COLUMN lockouts BIGINT NOT NULL DEFAULT 0;
