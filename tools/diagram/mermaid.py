"""A plan drawn as a Mermaid flowchart: one subgraph per component, and the data flows between
resources read from the plan's property dependencies and inputs (never from resource names):

- a KMS key encrypts what names it in ``serverSideEncryption``, ``kmsKeyArn`` or
  ``kmsMasterKeyId``; an alias names a key;
- a table with a stream feeds the stream, and the stream feeds whatever takes the table's stream
  as its event source (a consumer), which writes to what its ``environment`` names;
- a backup selection picks resources for a plan; a plan's rules put recovery points in their
  target vault, and copy them to the vault their copy action names; a lock locks a vault;
- alarms and budgets notify the topics they name; a topic delivers to its subscriptions; a
  dashboard shows the alarms it embeds.

Alike siblings (the alarms of a component) are drawn as one node, so the diagram stays readable.
IAM roles and policies are left out: who may do what is the policy pack's job, not a data flow.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tools.gate.plan_input import Plan, PlanResource

#: Collapse this many or more siblings of one type into a single node.
GROUP_AT = 3
OMITTED_PREFIXES = ("aws:iam/",)
ENCRYPTING_PROPERTIES = ("serverSideEncryption", "kmsKeyArn", "kmsMasterKeyId", "kmsKeyId")
TABLE = "aws:dynamodb/table:Table"


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    shape: str
    parent: str
    urns: tuple[str, ...]


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _short(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _shape(type_: str, label: str) -> str:
    if type_ in (TABLE, "aws:backup/vault:Vault"):
        return f'[("{label}")]'
    if type_ == "aws:kms/key:Key":
        return f'{{{{"{label}"}}}}'
    if type_ == "aws:sns/topic:Topic":
        return f'>"{label}"]'
    return f'["{label}"]'


class Diagram:
    """Nodes and edges of a plan."""

    def __init__(self, plan: Plan, default_region: str = "") -> None:
        self.plan = plan
        self.by_urn = {r.urn: r for r in plan.resources}
        self.default_region = default_region
        self.nodes: dict[str, Node] = {}
        self.node_of: dict[str, str] = {}
        self.edges: set[tuple[str, str, str]] = set()
        self._nodes()
        self._edges()

    # ---- nodes ----

    def _label(self, r: PlanResource, count: int = 1) -> str:
        region = str(r.inputs.get("region") or "")
        where = f" ({region})" if region and region != self.default_region else ""
        if count > 1:
            return f"{count} x {_short(r.type)}{where}"
        return f"{r.name}{where}<br/><small>{_short(r.type)}</small>"

    def _nodes(self) -> None:
        siblings: dict[tuple[str, str], list[PlanResource]] = defaultdict(list)
        for r in self.plan.resources:
            if r.custom and not r.type.startswith(OMITTED_PREFIXES):
                siblings[r.parent, r.type].append(r)
        for (parent, type_), members in sorted(siblings.items()):
            groups = [members] if len(members) >= GROUP_AT else [[m] for m in members]
            for group in groups:
                first = group[0]
                owner = parent.rsplit("::", 1)[-1]
                node_id = _id(
                    f"n_{first.name}" if len(group) == 1 else f"n_{owner}_{_short(type_)}s"
                )
                label = self._label(first, len(group))
                self.nodes[node_id] = Node(
                    node_id, label, _shape(type_, label), parent, tuple(m.urn for m in group)
                )
                for member in group:
                    self.node_of[member.urn] = node_id
            if type_ == TABLE:
                for table in members:
                    if table.inputs.get("streamEnabled"):
                        sid = _id(f"n_{table.name}_stream")
                        view = table.inputs.get("streamViewType", "")
                        self.nodes[sid] = Node(
                            sid,
                            f"stream<br/><small>{view}</small>",
                            f'[/"stream<br/><small>{view}</small>"/]',
                            parent,
                            (),
                        )
                        self.edges.add((self.node_of[table.urn], sid, "changes"))

    # ---- edges ----

    def _edge(self, source_urn: str, target_urn: str, label: str) -> None:
        a, b = self.node_of.get(source_urn), self.node_of.get(target_urn)
        if a and b and a != b:
            self.edges.add((a, b, label))

    def _edges(self) -> None:
        vaults = {
            str(r.inputs.get("name")): r.urn
            for r in self.plan.resources
            if r.type == "aws:backup/vault:Vault"
        }
        for r in self.plan.resources:
            if r.urn not in self.node_of:
                continue
            deps = {k: v for k, v in r.property_dependencies.items() if v}
            for prop, urns in deps.items():
                for dep in urns:
                    target = self.by_urn.get(dep)
                    if target is None:
                        continue
                    if target.type == "aws:kms/key:Key" and prop in ENCRYPTING_PROPERTIES:
                        self._edge(dep, r.urn, "encrypts")
                    elif r.type == "aws:kms/alias:Alias":
                        self._edge(r.urn, dep, "names")
                    elif prop in ("alarmActions", "notifications") or (
                        r.type == "aws:budgets/budget:Budget"
                    ):
                        self._edge(r.urn, dep, "notifies")
                    elif r.type == "aws:sns/topicSubscription:TopicSubscription":
                        self._edge(dep, r.urn, "delivers")
                    elif r.type == "aws:backup/selection:Selection" and prop == "resources":
                        self._edge(dep, r.urn, "selected")
                    elif r.type == "aws:backup/selection:Selection" and prop == "planId":
                        self._edge(r.urn, dep, "for")
                    elif r.type == "aws:backup/vaultLockConfiguration:VaultLockConfiguration":
                        self._edge(r.urn, dep, "locks")
                    elif prop == "tableName":
                        self._edge(dep, r.urn, "observed by")
                    elif prop == "dashboardBody":
                        self._edge(dep, r.urn, "shown on")
                    elif target.type == TABLE and (
                        "stream" in prop.lower() or "eventSource" in prop
                    ):
                        stream = _id(f"n_{target.name}_stream")
                        if stream in self.nodes:
                            self.edges.add((stream, self.node_of[r.urn], "feeds"))
                    elif prop == "environment":
                        self._edge(r.urn, dep, "writes to")
                    elif prop in ("functionName", "function"):
                        self._edge(r.urn, dep, "invokes")
            if r.type == "aws:backup/plan:Plan":
                for rule in r.inputs.get("rules") or []:
                    source = vaults.get(str(rule.get("targetVaultName")))
                    if source:
                        self._edge(r.urn, source, "recovery points")
                        for copy in rule.get("copyActions") or []:
                            name = str(copy.get("destinationVaultArn", "")).rsplit(":", 1)[-1]
                            if name in vaults:
                                self._edge(source, vaults[name], "copy")

    # ---- rendering ----

    def render(self, keep: Iterable[str] | None = None, highlight: Iterable[str] = ()) -> str:
        """The flowchart; ``keep`` limits it to those node ids (and the groups holding them)."""
        kept = set(self.nodes) if keep is None else set(keep)
        children: dict[str, list[str]] = defaultdict(list)
        for node in self.nodes.values():
            if node.id in kept:
                children[node.parent].append(node.id)
        components = {r.urn: r for r in self.plan.resources if not r.custom}
        needed: set[str] = set()
        for parent in list(children):
            while parent in components:
                needed.add(parent)
                parent = components[parent].parent
        sub: dict[str, list[str]] = defaultdict(list)
        for urn in sorted(needed):
            sub[components[urn].parent].append(urn)
        lines = ["flowchart LR"]

        def emit(parent: str, indent: str) -> None:
            for urn in sub.get(parent, []):
                comp = components[urn]
                lines.append(
                    f'{indent}subgraph {_id("g_" + comp.name)}["{comp.name}: {_short(comp.type)}"]'
                )
                emit(urn, indent + "  ")
                lines.append(f"{indent}end")
            for node_id in sorted(children.get(parent, [])):
                lines.append(f"{indent}{node_id}{self.nodes[node_id].shape}")

        roots = {p for p in children if p not in components} | {
            components[u].parent for u in needed if components[u].parent not in components
        }
        for root in sorted(roots):
            emit(root, "  ")
        for a, b, label in sorted(self.edges):
            if a in kept and b in kept:
                lines.append(f"  {a} -->|{label}| {b}")
        marked = sorted(set(highlight) & kept)
        if marked:
            lines.append("  classDef changed stroke:#d97706,stroke-width:3px")
            lines.append(f"  class {','.join(marked)} changed")
        return "\n".join(lines) + "\n"

    def around(self, urns: Iterable[str]) -> tuple[set[str], set[str]]:
        """(nodes to keep, nodes changed): the nodes of ``urns`` and their neighbours."""
        changed = {self.node_of[u] for u in urns if u in self.node_of}
        keep = set(changed)
        for a, b, _ in self.edges:
            if a in changed or b in changed:
                keep |= {a, b}
        return keep, changed
