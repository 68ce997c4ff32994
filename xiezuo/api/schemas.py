"""Request and response shapes of the REST API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

# Largest id the databases store (signed 64-bit); larger ones are refused as bad input.
MAX_ID = 2**63 - 1


class FieldError(Schema):
    """One problem with the request: ``field`` is e.g. ``query.level`` or ``body.helper.0`` ('' = whole)."""

    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = []


# --- regions -------------------------------------------------------------------------------------


class RegionOut(Schema):
    code: str = Field(description="code as people write it: 2/4/6/9/12 digits by level")
    code12: str = Field(description="12-digit statistical code")
    level: int
    level_name: str
    name: str
    kind: str = Field(description="code list region_kind")
    parent: str | None = Field(description="parent's short code")
    valid_from: int | None
    valid_to: int | None


class RegionPage(Schema):
    items: list[RegionOut]
    next: str | None = Field(description="pass as `after` for the next page; null on the last page")


class RegionFlagOut(Schema):
    flag: str = Field(description="code list region_flag")
    value: str
    origin: str = Field(description="loaded, derived or maintained")
    source: str
    valid_from: int | None
    valid_to: int | None


class CodeHistoryOut(Schema):
    code: str
    name: str
    province_name: str
    prefecture_name: str
    level: int
    in_use: bool
    status: str
    start_year: int
    end_year: int | None
    successors: list[list[int | None]]


class RegionPairingOut(Schema):
    id: int
    name: str
    programme: str
    level: str
    start_year: int
    end_year: int | None
    side: str = Field(description="helper or helped: the side this region is on")


class RegionDetailOut(RegionOut):
    flags: list[RegionFlagOut]
    ancestors: list[RegionOut] = Field(description="from the province down to the parent")
    code_history: list[CodeHistoryOut] = Field(description="rows of the region's 6-digit code")
    pairings: list[RegionPairingOut] = Field(description="pairings visible to you with the region on a side")


# --- code lists ----------------------------------------------------------------------------------


class CodeOut(Schema):
    code: str
    zh: str
    en: str
    aliases: list[str]
    valid_from: int | None
    valid_to: int | None


class CodeListOut(Schema):
    key: str
    name_zh: str
    name_en: str
    version: str
    codes: list[CodeOut]


# --- organisations -------------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    kind: str = Field(description="code list org_kind")
    name: str
    uscc: str | None = Field(description="unified social credit code (统一社会信用代码)")
    region: str = Field(description="short code of the region where it is registered")
    region_name: str


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    next: int | None = Field(description="pass as `after` for the next page; null on the last page")


class OrganisationIn(Schema):
    kind: str = Field(max_length=64, description="code, label or alias in code list org_kind")
    name: str = Field(max_length=200)
    region: str = Field(max_length=12, description="2/4/6/9/12-digit region code")
    uscc: str | None = Field(None, max_length=40)


# --- pairings ------------------------------------------------------------------------------------


class SideOut(Schema):
    region: str | None = Field(description="short region code, when the member is a region")
    organisation: int | None = Field(description="organisation id, when the member is an organisation")
    name: str
    region_code: str = Field(description="12-digit code of the region (or of the organisation's region)")


class PairingOut(Schema):
    id: int
    name: str
    programme: str = Field(description="code list programme")
    level: str = Field(description="code list pairing_level")
    start_year: int
    end_year: int | None
    parent: int | None = Field(description="parent pairing, when visible to you")
    source: str
    helper: list[SideOut]
    helped: list[SideOut]


class PairingPage(Schema):
    items: list[PairingOut]
    next: int | None = Field(description="pass as `after` for the next page; null on the last page")


class PairingBriefOut(Schema):
    id: int
    name: str
    programme: str
    level: str
    start_year: int
    end_year: int | None


class DocumentOut(Schema):
    id: int
    title: str
    year: int | None
    sha256: str
    uploaded_at: dt.datetime


class PairingDetailOut(PairingOut):
    children: list[PairingBriefOut] = Field(description="sub-pairings visible to you")
    documents: list[DocumentOut] = Field(description="agreement documents (metadata only)")


class SideIn(Schema):
    region: str | None = Field(None, max_length=12, description="2/4/6/9/12-digit region code")
    organisation: int | None = Field(None, ge=1, le=MAX_ID, description="organisation id")


class PairingIn(Schema):
    programme: str = Field(max_length=64, description="code, label or alias in code list programme")
    level: str = Field(max_length=64, description="code, label or alias in code list pairing_level")
    start_year: int = Field(ge=1949, le=2100)
    end_year: int | None = Field(None, ge=1949, le=2100)
    helper: list[SideIn] = Field(max_length=100)
    helped: list[SideIn] = Field(max_length=100)
    parent: int | None = Field(None, ge=1, le=MAX_ID)
    source: str = Field("", max_length=4000)


# --- tokens --------------------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenIn(Schema):
    name: str = Field(max_length=100)
    days: int | None = Field(
        None, ge=1, le=36500, description="lifetime; default and maximum are set by the site"
    )


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself, shown only this once")
