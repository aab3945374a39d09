"""The outbound adapter to a tenant's Jira Cloud site."""
