-- The duplicate email rule: one person entering as several contestants through spellings of
-- one mailbox (`joe+1@…`, Gmail's dots). `mailbox` is set only where it differs from the
-- email, and the index is partial, so ordinary contestants cost it nothing.
ALTER TABLE contestants ADD COLUMN mailbox TEXT;
CREATE INDEX contestants_by_mailbox ON contestants (campaign_id, mailbox) WHERE mailbox IS NOT NULL;
