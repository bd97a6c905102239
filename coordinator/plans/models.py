"""Action plans (handlingsplaner) per site: challenges, goals, activities, follow-up, kommun links."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

# Activity status, shown green/yellow/red (and in words, never by colour alone).
EJ_PABORJAD, PAGAR, GENOMFORD, AVBRUTEN = "ej_paborjad", "pagar", "genomford", "avbruten"
ACTIVITY_STATUSES = (EJ_PABORJAD, PAGAR, GENOMFORD, AVBRUTEN)


class ActionPlan(db.Model):
    __tablename__ = "action_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), unique=True)
    challenges: Mapped[str] = mapped_column(Text, default="")
    # Follow-up at visit 2: the overall picture and what is most urgent next.
    followup_summary: Mapped[str] = mapped_column(Text, default="")
    most_urgent: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    site = relationship("Site")
    goals: Mapped[list[PlanGoal]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                 order_by="PlanGoal.position")
    links: Mapped[list[PlanLink]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                 order_by="PlanLink.created_at")


class PlanGoal(db.Model):
    """A development goal (utvecklingsmål)."""
    __tablename__ = "plan_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    situation: Mapped[str] = mapped_column(Text, default="")  # the situation against the goal at follow-up
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"))  # goal area, for reporting

    plan: Mapped[ActionPlan] = relationship(back_populates="goals")
    theme = relationship("Theme")
    activities: Mapped[list[PlanActivity]] = relationship(back_populates="goal", cascade="all, delete-orphan",
                                                          order_by="PlanActivity.position")


class PlanActivity(db.Model):
    __tablename__ = "plan_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str] = mapped_column(String(200), default="")
    # "Decided" is tracked apart from "done": activities never decided are where goals fail.
    decided: Mapped[bool] = mapped_column(Boolean, default=False)
    depends_on_decision: Mapped[bool] = mapped_column(Boolean, default=False)
    depends_on_resources: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=EJ_PABORJAD)
    comment: Mapped[str] = mapped_column(Text, default="")
    # What the kommun reported through its link before the second visit.
    kommun_comment: Mapped[str] = mapped_column(Text, default="")
    kommun_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    goal: Mapped[PlanGoal] = relationship(back_populates="activities")


class PlanLink(db.Model):
    """A signed, expiring, revocable link through which a kommun reads and reports on its own plan."""
    __tablename__ = "plan_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)  # signed into the URL; the link's identity
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    plan: Mapped[ActionPlan] = relationship(back_populates="links")
