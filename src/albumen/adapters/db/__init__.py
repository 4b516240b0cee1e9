"""SQLAlchemy: tables, repositories and Alembic migrations."""
