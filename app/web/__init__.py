"""The Starlette layer: routes, authentication policies, pages, JSON API and error pages."""
