"""SQLite storage for quotebot: schema, migrations and every query."""
