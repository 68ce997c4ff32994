"""Your own API tokens: list, make (from a signed-in browser session only) and revoke."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Router, Status

from xiezuo.accounts.models import ApiToken
from xiezuo.accounts.tokens import create_token, revoke_token
from xiezuo.api.auth import session_auth, user_of
from xiezuo.api.schemas import MAX_ID, ErrorOut, NewTokenOut, TokenIn, TokenOut
from xiezuo.core.scope import get_or_404

router = Router(tags=["tokens"])
ERRORS = {400: ErrorOut, 404: ErrorOut}


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
def list_tokens(request: HttpRequest) -> list[TokenOut]:
    """Your tokens, newest first (the token strings themselves are never shown again)."""
    return [
        TokenOut.from_orm(t)
        for t in ApiToken.objects.filter(user=user_of(request)).order_by("-created_at", "-id")
    ]


# A token may not make tokens: that would let a stolen token outlive its expiry.
@router.post("/tokens", response={201: NewTokenOut, **ERRORS}, auth=[session_auth])
def post_token(request: HttpRequest, payload: TokenIn) -> Status[NewTokenOut]:
    """Make a token for yourself; the response is the only time the token is shown."""
    token, raw = create_token(
        actor=user_of(request), user=user_of(request), name=payload.name, days=payload.days, via="api"
    )
    return Status(201, NewTokenOut(**TokenOut.from_orm(token).dict(), token=raw))


@router.delete("/tokens/{id}", response={204: None, **ERRORS})
def delete_token(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> Status[None]:
    """Revoke one of your tokens."""
    token = get_or_404(ApiToken.objects.select_related("user").filter(user=user_of(request)), pk=id)
    revoke_token(actor=user_of(request), token=token, via="api")
    return Status(204, None)
