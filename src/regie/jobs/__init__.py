"""Background jobs: one interface (``services.job``), two engines (procrastinate on PostgreSQL, an
embedded runner on SQLite)."""
