"""Dramatiq entry point beside the web app: the broker, the actors, and the JobQueue they implement."""
