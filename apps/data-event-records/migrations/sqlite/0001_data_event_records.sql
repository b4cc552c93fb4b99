-- The records of the dataEventRecords API. The timestamp is RFC 3339 text in UTC, as the API returns it: the
-- same column type on both databases, and exact (no precision lost between SQLite and PostgreSQL).
CREATE TABLE data_event_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    event_timestamp TEXT NOT NULL
);
