"""Drupal Ticket Generator: a Jira Cloud app that turns a Drupal spec export into linked Jira issues."""

__version__ = "0.1.0"
