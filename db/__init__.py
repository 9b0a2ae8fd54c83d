"""The database layer: models, sessions, repository functions (each takes a Session), migrations."""
