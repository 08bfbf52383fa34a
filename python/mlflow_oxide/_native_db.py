"""The MLflow database schema revisions (alembic) the native SQL was written and tested against;
any other revision is served by MLflow's own code."""

KNOWN_SCHEMA_REVISIONS = frozenset({"dc11669786a5"})  # MLflow 3.17
