"""Talent ledgers (人才支援 / 人才交流, issue #4): secondments, training sessions, participants.

Secondments of cadres (党政干部) and professionals (专业技术人才) go both ways (``direction``, code
list ``exchange_direction``); they are entered by the helper side and confirmed by the helped side.
Training sessions and their participants are entered by the helped side, which keeps the rosters
with ID numbers (participants are checked against the registry). A participant names its session
by the session number (培训班编号) the helped side gives it. People are never model fields: their
ID numbers live hashed in ``ledgers.PersonCheck`` (D3).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from xiezuo.ledgers.models import LedgerRecord
from xiezuo.pairings.models import Organisation


class Secondment(LedgerRecord):
    """A cadre or professional seconded (挂职, 支教, 支医 …) from a home organisation to a host
    organisation, one row per person, pairing and year (a two-year secondment is reported each year).

    ``professional_field`` (education, health, agriculture, science and technology, other) is set
    for professionals. ``end_on`` is empty while the secondment goes on.
    """

    person_type = models.CharField(max_length=16)
    professional_field = models.CharField(max_length=32, blank=True)
    direction = models.CharField(max_length=16)
    home_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    host_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    start_on = models.DateField()
    end_on = models.DateField(null=True, blank=True)
    post = models.CharField(max_length=200, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "secondment"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="%(app_label)s_%(class)s_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(person_type__in=["cadre", "professional"]),
                name="%(app_label)s_%(class)s_person_type",
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.year} {self.person_type} {self.start_on}"


class TrainingSession(LedgerRecord):
    """A training session (培训班): kind (cadres, professionals, village leaders 致富带头人, poor
    labourers' skills), organiser, dates, place and the number of participants (参训人数).

    ``session_number`` (培训班编号) is the helped side's number for the session, unique per pairing
    and year; participant rows name their session by it.
    """

    session_number = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    organiser = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start_on = models.DateField()
    end_on = models.DateField()
    place = models.CharField(max_length=200, blank=True)
    participants = models.IntegerField()

    class Meta(LedgerRecord.Meta):
        verbose_name = "training session"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(end_on__gte=F("start_on")), name="%(app_label)s_%(class)s_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(participants__gte=0), name="%(app_label)s_%(class)s_participants_nonneg"
            ),
        ]
        indexes = [
            *LedgerRecord.Meta.indexes,
            models.Index(fields=["pairing", "year", "session_number"], name="talent_session_number"),
        ]

    def __str__(self) -> str:
        return f"{self.session_number} {self.title}"


class TrainingParticipant(LedgerRecord):
    """A participant of a training session, named by ID number (checked against the registry on
    ``trained_on``, a date of the session). ``kind`` repeats the session's kind so that rosters
    can be counted by kind (verified poor labourers trained) without a join.
    """

    session_number = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    trained_on = models.DateField()

    class Meta(LedgerRecord.Meta):
        verbose_name = "training participant"
        constraints = [*LedgerRecord.Meta.constraints]
        indexes = [
            *LedgerRecord.Meta.indexes,
            models.Index(fields=["pairing", "year", "session_number"], name="talent_participant_session"),
        ]

    def __str__(self) -> str:
        return f"{self.session_number} #{self.pk}"
