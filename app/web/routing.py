"""Routes that declare who may call them. A route without a declared policy cannot be registered.

Policies:
- PUBLIC: the descriptor, static files, health checks.
- SIGNED_INSTALL: `installed`/`uninstalled`, verified by the lifecycle use case itself (RS256).
- JIRA_REQUEST: module pages and `enabled`/`disabled`: an HS256 token bound to this exact request.
- CONTEXT: our JSON API: context tokens from `AP.context.getToken()`, or a FIT from the Forge Custom UI.
- FORGE_TRIGGER: Forge lifecycle events and scheduled triggers: a Forge Invocation Token (FIT) for our app id.
- FORGE_UI: calls from the Forge Custom UI (invokeRemote/requestRemote): a FIT that names the calling user.
- FORGE_UNINSTALL: `preUninstall`: a FIT, answered even for an installation already marked uninstalled.
Every Forge policy but the last stores the installation and its newest system token before the handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from app.connect.verifiers import AuthenticationError
from app.logs import tenant_var
from app.web import forge_identity

Endpoint = Callable[[Request], Awaitable[Response]]


class Auth(StrEnum):
    PUBLIC = "public"
    SIGNED_INSTALL = "signed_install"
    JIRA_REQUEST = "jira_request"
    CONTEXT = "context"
    FORGE_TRIGGER = "forge_trigger"
    FORGE_UI = "forge_ui"
    FORGE_UNINSTALL = "forge_uninstall"


FORGE_POLICIES = (Auth.FORGE_TRIGGER, Auth.FORGE_UI, Auth.FORGE_UNINSTALL)


class SecuredRoute(Route):
    def __init__(self, path: str, endpoint: Endpoint, *, auth: Auth, methods: Sequence[str] = ("GET",)) -> None:
        self.auth = auth
        super().__init__(path, _guard(endpoint, auth), methods=list(methods))


class SecuredMount(Mount):
    """A public mount (static files); kept explicit so the policy check covers mounts too."""

    auth = Auth.PUBLIC


def token_from(request: Request, *, allow_query: bool) -> str:
    header = request.headers.get("authorization", "")
    if header.startswith("JWT "):
        return header[4:].strip()
    if allow_query and request.query_params.get("jwt"):
        return request.query_params["jwt"]
    raise AuthenticationError("This request carries no Connect token; open the page from Jira.")


_ENABLE_CALLBACKS = ("/enabled", "/disabled")


def _guard(endpoint: Endpoint, auth: Auth) -> Endpoint:
    async def guarded(request: Request) -> Response:
        services = request.state.services
        if auth is Auth.JIRA_REQUEST:
            token = token_from(request, allow_query=True)
            request.state.identity = await services.request_verifier.verify(token, request.method, str(request.url))
        elif auth is Auth.CONTEXT and forge_identity.is_forge_call(request):
            # The Forge Custom UI calls the same API through invokeRemote, with a FIT instead of a context token.
            request.state.identity = await forge_identity.identity(request)
        elif auth is Auth.CONTEXT:
            token = token_from(request, allow_query=False)
            request.state.identity = await services.context_verifier.verify(token, request.method, str(request.url))
        elif auth in FORGE_POLICIES:
            await forge_identity.admit(
                request, needs_user=auth is Auth.FORGE_UI, store=auth is not Auth.FORGE_UNINSTALL
            )
        if auth in (Auth.JIRA_REQUEST, Auth.CONTEXT):
            # A site that disabled the app is treated as one that uninstalled it (its data is kept): only the
            # callback that enables it again gets through.
            if not request.state.identity.installation.enabled and request.url.path not in _ENABLE_CALLBACKS:
                raise AuthenticationError("The app is disabled on this Jira site; a Jira admin can enable it again.")
            # The tenant id (never the clientKey or anything secret) goes on every log line of this request.
            tenant_var.set(request.state.identity.installation.id)
        return await endpoint(request)

    guarded.__name__ = endpoint.__name__
    return guarded


def check_policies(routes: Sequence[BaseRoute]) -> None:
    """Refuse to start an app with a route that declares no policy (the default is refusal)."""
    for route in routes:
        if not isinstance(route, (SecuredRoute, SecuredMount)):
            raise RuntimeError(f"Route {getattr(route, 'path', route)!r} declares no authentication policy")
