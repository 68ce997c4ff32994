"""The period workflow: submit → review → approve (lock), return, ask for and grant an unlock.

One service for pages, the API and the demo (issue #16 item 4): :func:`take_action` finds the
period, checks the step against ``flows.yaml`` and takes it. Who *may* take a step is the flow's
role and level (``xiezuo.ledgers.flows.may_take``; out of scope raises ``ScopeError``, which pages
and the API answer with 404). Four eyes (issue #21) then refuses, with :class:`Refused` (403 and a
message code), a step the role allows but separation of duties forbids:

- ``four_eyes_earlier_step``: the user already took a step of this round (since the period was
  last opened), so one person cannot submit, review and approve alone;
- ``four_eyes_entered_records``: the user entered records of the period and would review or
  approve them (the first step, submitting one's own entries, stays allowed);
- ``four_eyes_unlock_requester``: the user asked for the unlock they would grant.

A flow side may turn four eyes off with ``four_eyes: false`` in ``flows.yaml``. Steps by the system
(the demo) carry no person and are not checked.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xiezuo.core import audit
from xiezuo.core.scope import ScopeError
from xiezuo.ledgers import flows, types
from xiezuo.ledgers.models import Period, PeriodAction
from xiezuo.ledgers.services import RecordInvalid, side_regions
from xiezuo.pairings.models import Pairing

ACTIONS = ("advance", "return", "request_unlock", "unlock")
# Period actions that open a new round: steps before them no longer count for four eyes.
ROUND_START = ("return", "unlock")
TRACKED = ["state", "step", "locked", "unlock_requested"]

REFUSALS: dict[str, Any] = {
    "four_eyes_earlier_step": _(
        "Four eyes: you already took an earlier step of this period; another official must take this one."
    ),
    "four_eyes_entered_records": _(
        "Four eyes: you entered records of this period, so another official must review and approve it."
    ),
    "four_eyes_unlock_requester": _("Four eyes: you asked for this unlock; another official must grant it."),
}


class Refused(Exception):
    """A step the user's role allows but four eyes forbids; ``code`` is a key of :data:`REFUSALS`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code])


def get_period(ledger: str, pairing: Pairing, side: str, year: int, period_no: int = 0) -> Period:
    period, _created = Period.objects.get_or_create(
        ledger=ledger, pairing=pairing, side=side, year=year, period_no=period_no
    )
    return period


def next_step(period: Period) -> flows.Step | None:
    flow = flows.flow_for(period.ledger, period.side)
    return flow.steps[period.step] if period.step < len(flow.steps) else None


# --- who may (by role and region) ---------------------------------------------------------------


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


MAY = {
    "advance": may_advance,
    "return": may_return,
    "request_unlock": may_request_unlock,
    "unlock": may_grant_unlock,
}


# --- four eyes ----------------------------------------------------------------------------------


def four_eyes(user: Any, period: Period, action: str) -> str | None:
    """The refusal code when four eyes forbids ``user`` to take ``action`` on ``period``, else None."""
    if not getattr(user, "is_authenticated", False) or period.pk is None:
        return None
    if not flows.flow_for(period.ledger, period.side).four_eyes:
        return None
    history = PeriodAction.objects.filter(period=period)
    if action == "unlock":
        asked = history.filter(action="unlock_request").order_by("-id").first()
        return "four_eyes_unlock_requester" if asked is not None and asked.actor_id == user.pk else None
    if action != "advance" or period.step == 0:
        return None
    opened = history.filter(action__in=ROUND_START).order_by("-id").values_list("id", flat=True).first()
    this_round = history.exclude(action__in=(*ROUND_START, "unlock_request"))
    if opened is not None:
        this_round = this_round.filter(id__gt=opened)
    if this_round.filter(actor_id=user.pk).exists():
        return "four_eyes_earlier_step"
    model = types.get(period.ledger).model
    entered = model.objects.filter(
        pairing_id=period.pairing_id,
        side=period.side,
        year=period.year,
        period_no=period.period_no,
        created_by_id=user.pk,
    )
    return "four_eyes_entered_records" if entered.exists() else None


def _require(user: Any, period: Period, action: str) -> None:
    if not MAY[action](user, period):
        raise ScopeError(f"may not {action} this period")
    refusal = four_eyes(user, period, action)
    if refusal is not None:
        raise Refused(refusal)


# --- the steps ----------------------------------------------------------------------------------


def _lock(period: Period) -> Period:
    """Lock the period's row for this transaction and re-read it: of two officials clicking at
    once, the second sees the first one's step (and four eyes judges on it)."""
    list(Period.objects.select_for_update().filter(pk=period.pk).values_list("pk"))
    period.refresh_from_db()
    return period


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
        changes=audit.diff(before, audit.snapshot(period, TRACKED)),
        via=via,
    )


def advance_period(period: Period, *, actor: Any, note: str = "", via: str = "web") -> Period:
    """Take the next step (submit, review, approve); the last one locks the period."""
    flow = flows.flow_for(period.ledger, period.side)
    with transaction.atomic():
        period = _lock(period)
        _require(actor, period, "advance")
        step = flow.steps[period.step]
        before = audit.snapshot(period, TRACKED)
        period.step += 1
        period.locked = period.step == len(flow.steps)
        period.state = Period.APPROVED if period.locked else Period.SUBMITTED
        period.save()
        _period_action(
            period, actor=actor, action=step.action, role=step.role, note=note, via=via, before=before
        )
    return period


def return_period(period: Period, *, actor: Any, note: str, via: str = "web") -> Period:
    """A reviewer sends the period back for correction (open again, a new round)."""
    with transaction.atomic():
        period = _lock(period)
        _require(actor, period, "return")
        if not note.strip():
            raise RecordInvalid([("note", "退回时请说明原因", "say why when returning")])
        step = next_step(period)
        assert step is not None
        before = audit.snapshot(period, TRACKED)
        period.step, period.state = 0, Period.OPEN
        period.save()
        _period_action(
            period, actor=actor, action="return", role=step.role, note=note, via=via, before=before
        )
    return period


def request_unlock(period: Period, *, actor: Any, reason: str, via: str = "web") -> Period:
    flow = flows.flow_for(period.ledger, period.side)
    with transaction.atomic():
        period = _lock(period)
        _require(actor, period, "request_unlock")
        if not reason.strip():
            raise RecordInvalid([("note", "申请解锁时请说明原因", "say why the period must be unlocked")])
        before = audit.snapshot(period, TRACKED)
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
    flow = flows.flow_for(period.ledger, period.side)
    with transaction.atomic():
        period = _lock(period)
        _require(actor, period, "unlock")
        before = audit.snapshot(period, TRACKED)
        period.locked, period.step, period.state, period.unlock_requested = False, 0, Period.OPEN, False
        period.save()
        _period_action(
            period, actor=actor, action="unlock", role=flow.steps[-1].role, note=note, via=via, before=before
        )
    return period


def take_action(
    action: str,
    *,
    actor: Any,
    ltype: types.LedgerType,
    pairing: Pairing,
    side: str,
    year: int,
    period_no: int,
    note: str = "",
    via: str = "web",
) -> Period:
    """Take ``action`` (one of :data:`ACTIONS`) on a period of a pairing the actor sees.

    Raises ``ScopeError`` when the actor's role may not (pages and the API: 404, nothing created),
    :class:`Refused` when four eyes forbids it, ``RecordInvalid`` when the note is missing.
    """
    if action not in ACTIONS or side not in ltype.sides:
        raise ScopeError("no such period action")
    period = Period.objects.filter(
        ledger=ltype.key, pairing=pairing, side=side, year=year, period_no=period_no
    ).first() or Period(ledger=ltype.key, pairing=pairing, side=side, year=year, period_no=period_no)
    # Checked before the period row is created, so that a refused user leaves nothing behind.
    _require(actor, period, action)
    if period.pk is None:
        period = get_period(ltype.key, pairing, side, year, period_no)
    if action == "advance":
        return advance_period(period, actor=actor, note=note, via=via)
    if action == "return":
        return return_period(period, actor=actor, note=note, via=via)
    if action == "request_unlock":
        return request_unlock(period, actor=actor, reason=note, via=via)
    return grant_unlock(period, actor=actor, note=note, via=via)
