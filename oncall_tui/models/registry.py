"""The MLflow model registry: versions, aliases, and the rollback of the serving alias."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from .alerts import EMPTY, utcnow


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model, with what its source run says about it."""

    name: str
    version: str  # MLflow's REST API wants a string
    status: str = ""  # READY | PENDING_REGISTRATION | FAILED_REGISTRATION
    aliases: tuple[str, ...] = ()  # filled from the registered model (search results carry none)
    created_at: datetime | None = None
    run_id: str = ""
    source: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    metrics: Mapping[str, float] = field(default_factory=lambda: EMPTY)  # the source run's latest metrics
    trained_at: datetime | None = None  # the source run's end (else start)
    run_error: str = ""  # why the source run could not be read (its metrics and training time are unknown)

    @property
    def number(self) -> int:
        try:
            return int(self.version)
        except ValueError:
            return -1

    @property
    def ready(self) -> bool:
        return self.status.upper() == "READY"


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    aliases: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # alias -> version
    latest_version: str = ""
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ModelServing:
    """What the model panel shows: the version behind the serving alias and the one before it."""

    model: RegisteredModel
    alias: str
    serving: ModelVersion | None  # None: the alias is not set
    previous: ModelVersion | None = None
    previous_why: str = ""  # how `previous` was found (tag history, or newest older READY version)
    fetched_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class RegistryRollbackPlan:
    """Move `alias` of `model` from `current` to `target`: what the confirm dialog shows."""

    model: str
    alias: str
    current: str  # the version the alias pointed to when the plan was made
    target: str
    target_why: str
    candidates: tuple[ModelVersion, ...]  # READY versions the user may pick instead (newest first)
    registry: str = ""  # the registry URI, without credentials
    undo_of: str = ""  # set when the target is where this tool moved the alias from (an undo)


@dataclass(frozen=True)
class RegistryRollbackResult:
    ok: bool
    outcome: str  # ok | failed | unknown (as audited)
    message: str
    audit_id: str = ""
    before: str = ""
    after: str = ""
