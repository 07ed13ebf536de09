"""Config of the stack's IAM roles around the data: ``medeez-platform:access``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from stackspec.config.base import ConfigModel


class AccessConfig(ConfigModel):
    github_repository: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
    ] = "medeez/medeez-platform"
    """owner/name of the GitHub repository whose workflows may deploy this stack (the deploy
    role's OIDC trust checks the token's sub claim against it)."""
    deploy_environment: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,255}$")] | None = None
    """The GitHub environment a deploying job runs in (sub claim
    ``repo:<repository>:environment:<this>``); unset means the stack's environment name."""
    application_role_name: Annotated[str, Field(pattern=r"^[\w+=,.@-]{1,64}$")] | None = None
    """The application's runtime role, the only principal that may assume the tenant role (with
    a clinicId session tag); unset means ``medeez-<env>-app-runtime``. It is never allowed to
    assume the operations role."""
    tenant_session_seconds: Annotated[int, Field(ge=900, le=3600)] = 3600
    """How long a tenant session the data layer requests lasts (AssumeRole DurationSeconds),
    900-3600: the application's role assumes the tenant role by role chaining, which AWS caps
    at 1 hour; the role's own maximum is 3600."""
    operations_max_session_seconds: Annotated[int, Field(ge=3600, le=43200)] = 3600
    """Longest session of the operations role (its MaxSessionDuration), 3600-43200 seconds,
    AWS's range: cross-tenant work is time-limited."""
