"""PostgreSQL: the embedded server, connection settings and the projections' tables."""
