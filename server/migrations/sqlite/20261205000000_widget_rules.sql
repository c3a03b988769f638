-- The full widget's rules: a contestant's session token (hashed) and referral code, who
-- referred them and how many friends they brought; a Reward campaign's coupon pool and what
-- each contestant unlocked; files uploaded for `upload` entry methods.

ALTER TABLE contestants ADD COLUMN token_hash TEXT;
ALTER TABLE contestants ADD COLUMN referral_code TEXT;
ALTER TABLE contestants ADD COLUMN referred_by BIGINT REFERENCES contestants (id);
ALTER TABLE contestants ADD COLUMN referrals BIGINT NOT NULL DEFAULT 0;
-- Unix ms when the campaign's reward unlocked for them, and what it gave (a coupon code or a
-- download link), so it can be shown again.
ALTER TABLE contestants ADD COLUMN reward_unlocked_at BIGINT;
ALTER TABLE contestants ADD COLUMN reward_value TEXT;

CREATE UNIQUE INDEX contestants_by_token ON contestants (token_hash);
CREATE UNIQUE INDEX contestants_by_referral_code ON contestants (campaign_id, referral_code);

CREATE TABLE coupons (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    code TEXT NOT NULL,
    -- Who it was handed to; NULL while free.
    contestant_id BIGINT REFERENCES contestants (id),
    assigned_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (campaign_id, code)
);

CREATE INDEX coupons_free ON coupons (campaign_id, contestant_id, id);

CREATE TABLE uploads (
    id INTEGER PRIMARY KEY,
    -- `upl_…`: in the upload's URL and in the entry that cites it.
    public_id TEXT NOT NULL UNIQUE,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

-- `entry.upload` of the webhook body (JSON), when the entry has one.
ALTER TABLE entries ADD COLUMN upload TEXT;
