"""Reporting periods of the ledgers and their approval steps (moved out of ``services.py``, which
re-exports them): submit, review, approve (which locks), return, ask for and grant an unlock."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from xiezuo.core import audit
from xiezuo.core.scope import ScopeError
from xiezuo.ledgers import flows
from xiezuo.ledgers.models import Period, PeriodAction
from xiezuo.ledgers.services import RecordInvalid, side_regions
from xiezuo.pairings.models import Pairing

# --- periods and approval ----------------------------------------------------------------------


def get_period(ledger: str, pairing: Pairing, side: str, year: int, period_no: int = 0) -> Period:
    period, _ = Period.objects.get_or_create(
        ledger=ledger, pairing=pairing, side=side, year=year, period_no=period_no
    )
    return period


def next_step(period: Period) -> flows.Step | None:
    flow = flows.flow_for(period.ledger, period.side)
    return flow.steps[period.step] if period.step < len(flow.steps) else None


def may_advance(user: Any, period: Period) -> bool:
    step = next_step(period)
    return (
        step is not None
        and not period.locked
        and flows.may_take(user, step, side_regions(period.pairing, period.side))
    )


def may_return(user: Any, period: Period) -> bool:
    return period.step > 0 and not period.locked and may_advance(user, period)


def may_request_unlock(user: Any, period: Period) -> bool:
    flow = flows.flow_for(period.ledger, period.side)
    return (
        period.locked
        and not period.unlock_requested
        and flows.may_take(user, flow.steps[0], side_regions(period.pairing, period.side))
    )


def may_grant_unlock(user: Any, period: Period) -> bool:
    """The approving role unlocks a locked period once a lower level has asked for it."""
    flow = flows.flow_for(period.ledger, period.side)
    return (
        period.locked
        and period.unlock_requested
        and flows.may_take(user, flow.steps[-1], side_regions(period.pairing, period.side))
    )


def _period_action(
    period: Period, *, actor: Any, action: str, role: str, note: str, via: str, before: dict[str, Any]
) -> None:
    PeriodAction.objects.create(
        period=period,
        action=action,
        step=period.step,
        role=role,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:500],
    )
    audit.record(
        actor=actor,
        action=f"period.{action}",
        object_type="period",
        object_id=period.pk,
        object_repr=str(period),
        region_code=side_regions(period.pairing, period.side)[0][0],
        changes=audit.diff(before, audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])),
        via=via,
    )


def advance_period(period: Period, *, actor: Any, note: str = "", via: str = "web") -> Period:
    """Take the next step (submit, review, approve); the last one locks the period."""
    if not may_advance(actor, period):
        raise ScopeError("may not take this step")
    flow = flows.flow_for(period.ledger, period.side)
    step = flow.steps[period.step]
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.step += 1
        period.locked = period.step == len(flow.steps)
        period.state = Period.APPROVED if period.locked else Period.SUBMITTED
        period.save()
        _period_action(
            period, actor=actor, action=step.action, role=step.role, note=note, via=via, before=before
        )
    return period


def return_period(period: Period, *, actor: Any, note: str, via: str = "web") -> Period:
    """A reviewer sends the period back for correction (open again)."""
    if not may_return(actor, period):
        raise ScopeError("may not return this period")
    if not note.strip():
        raise RecordInvalid([("note", "退回时请说明原因", "say why when returning")])
    step = next_step(period)
    assert step is not None
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.step, period.state = 0, Period.OPEN
        period.save()
        _period_action(
            period, actor=actor, action="return", role=step.role, note=note, via=via, before=before
        )
    return period


def request_unlock(period: Period, *, actor: Any, reason: str, via: str = "web") -> Period:
    if not may_request_unlock(actor, period):
        raise ScopeError("may not ask for an unlock")
    if not reason.strip():
        raise RecordInvalid([("note", "申请解锁时请说明原因", "say why the period must be unlocked")])
    flow = flows.flow_for(period.ledger, period.side)
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.unlock_requested, period.unlock_reason = True, reason.strip()[:500]
        period.save()
        _period_action(
            period,
            actor=actor,
            action="unlock_request",
            role=flow.steps[0].role,
            note=reason,
            via=via,
            before=before,
        )
    return period


def grant_unlock(period: Period, *, actor: Any, note: str = "", via: str = "web") -> Period:
    if not may_grant_unlock(actor, period):
        raise ScopeError("may not unlock")
    flow = flows.flow_for(period.ledger, period.side)
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.locked, period.step, period.state, period.unlock_requested = False, 0, Period.OPEN, False
        period.save()
        _period_action(
            period, actor=actor, action="unlock", role=flow.steps[-1].role, note=note, via=via, before=before
        )
    return period
