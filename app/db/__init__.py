"""Persistence: SQLModel tables, the engine, and one repository module per aggregate."""
