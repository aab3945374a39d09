"""Issue properties: `GET`/`PUT /issue/{issueIdOrKey}/properties/{propertyKey}`."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.rest.common import issue_in_path, json_body, runtime_of
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import API
from app.sandbox.rest.validation import PROPERTY_KEY_MAX, PROPERTY_VALUE_MAX_BYTES


async def get_property(request: Request) -> Response:
    issue = issue_in_path(request)
    key = request.path_params["propertyKey"]
    if key not in issue.properties:
        raise JiraRequestError(404, f"The property with key '{key}' does not exist.")
    return JSONResponse({"key": key, "value": issue.properties[key]})


async def set_property(request: Request) -> Response:
    """201 when the property is new, 200 when it replaced a value."""
    issue = issue_in_path(request)
    key = request.path_params["propertyKey"]
    if len(key) > PROPERTY_KEY_MAX:
        raise JiraRequestError(400, "The property key must be between 1 and 255 characters long.")
    value = await json_body(request)
    if len(json.dumps(value).encode()) > PROPERTY_VALUE_MAX_BYTES:
        raise JiraRequestError(400, "The property value is too long (maximum 32768 bytes).")
    created = await runtime_of(request).store.set_property(issue, key, value)
    return Response(status_code=201 if created else 200)


# Jira's reserved, read-only app property that tells a Forge app the clientKey of the Connect app with the same key on
# this site (for a site moving from one front to the other).
CONNECT_CLIENT_KEY_PROPERTY = "connect_client_key_019cdff3-8bfb-71fe-9628-875b700aebb8"


async def get_app_property(request: Request) -> Response:
    """`GET /rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}`: only the reserved Connect-key
    property (the sandbox keeps no other app properties); 404 when no Connect app with that key is installed."""
    key = request.path_params["propertyKey"]
    installation = runtime_of(request).store.installations.get(request.path_params["addonKey"])
    if key != CONNECT_CLIENT_KEY_PROPERTY or installation is None or not installation.installed:
        raise JiraRequestError(404, f"The property with key '{key}' does not exist.")
    return JSONResponse({"key": key, "value": installation.client_key})


ROUTES = [
    ("/rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}", get_app_property, ["GET"]),
    (f"{API}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}", get_property, ["GET"]),
    (f"{API}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}", set_property, ["PUT"]),
]
