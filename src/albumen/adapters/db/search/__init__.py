"""Search on the database: a shared core, and one dialect each for SQLite and PostgreSQL."""
