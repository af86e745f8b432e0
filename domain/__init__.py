"""The pure core: the Run aggregate, its service, projections' row logic and exploration policy.

Nothing here imports Ray, HTTP, Appium or psycopg."""
