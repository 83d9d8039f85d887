"""Immutable models that sources return and the UI renders. No I/O, no textual."""

from .alerts import (  # noqa: F401
    EMPTY,
    SEVERITY_RANK,
    Alert,
    AlertGroup,
    AlertState,
    BackendCheck,
    Matcher,
    Silence,
    SourceHealth,
    SourceStatus,
    compact_duration,
    severity_rank,
    utcnow,
)
from .changes import (  # noqa: F401
    Change,
    ChangeUndo,
    ChangeView,
)
from .cluster import (  # noqa: F401
    AccessReview,
    ContainerState,
    Deployment,
    DeploymentRollbackPlan,
    DeploymentRollbackResult,
    DeploymentView,
    Event,
    Finding,
    LogTail,
    Pod,
    ReplicaSet,
    RolloutStatus,
    TemplateChange,
    freeze,
    thaw,
)
from .registry import (  # noqa: F401
    ModelServing,
    ModelVersion,
    RegisteredModel,
    RegistryRollbackPlan,
    RegistryRollbackResult,
)
from .signals import (  # noqa: F401
    AlertRule,
    Chart,
    QueryResult,
    Series,
    SignalView,
)
