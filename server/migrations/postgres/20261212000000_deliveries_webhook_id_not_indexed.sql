-- A delivery's webhook id is no longer kept unique by an index. Nothing looks a delivery up
-- by it, and each is made unique where it is made (the time, then 15 random characters of
-- 62, or 24 of them): the index only cost every entry's delivery one more B-tree to write.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_webhook_id_key;
