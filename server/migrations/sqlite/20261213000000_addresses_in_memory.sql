-- The fraud filter's per-address counts are kept in memory by the entry writer
-- (`store/addresses.rs`), read from `entries.client_ip` as it starts: this index took each
-- new entry at a random place (a 4 KiB page written, and read, per entry).
DROP INDEX entries_by_ip;
