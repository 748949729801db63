"""Storage: the session record (conversations and turns) in SQLite."""
