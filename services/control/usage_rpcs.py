"""The usage ledger's RPCs of the control servicer: RecordUsage, SetUsageBudget, GetUsageLedger, GetTenantSpend."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import grpc
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.control.errors import storage_errors
from services.control.storage.base import Storage
from services.control.storage.usage import USAGE_COLUMNS, Amounts, SessionLedger, UsageRow, day_and_month
from services.control.validation import Violations, check_token, session_id_from_name
from services.runtime.context import current_tenant

MAX_ENTRIES = 1000
MAX_NAME_LENGTH = 200


def usage_of(amounts: Amounts) -> study_pb2.TokenUsage:
    return study_pb2.TokenUsage(
        **{name: (float(amounts[name]) if name.endswith("cost") else int(amounts[name])) for name in USAGE_COLUMNS}
    )


def amounts_of(usage: study_pb2.TokenUsage) -> Amounts:
    return {name: getattr(usage, name) for name in USAGE_COLUMNS}


def ledger_message(ledger: SessionLedger, session: str) -> control_pb2.UsageLedger:
    return control_pb2.UsageLedger(
        session=session,
        total=usage_of(ledger.total),
        max_cost=ledger.max_cost,
        max_tokens=ledger.max_tokens,
        budget_exhausted=ledger.exhausted,
        entries=[
            control_pb2.UsageEntry(service=row.service, model=row.model, agent=row.agent, usage=usage_of(row.amounts))
            for row in ledger.rows
        ],
    )


def _check_usage(violations: Violations, field: str, usage: study_pb2.TokenUsage) -> None:
    for name in USAGE_COLUMNS:
        value = getattr(usage, name)
        violations.check(math.isfinite(value) and value >= 0, f"{field}.{name}", "must be a finite number, at least 0")


class UsageLedgerRpcs:
    """Needs the servicer's `_storage`."""

    _storage: Storage

    async def RecordUsage(
        self, request: control_pb2.RecordUsageRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RecordUsageResponse:
        session_id = session_id_from_name("session", request.session)
        violations = Violations()
        violations.check(len(request.entries) <= MAX_ENTRIES, "entries", f"must be at most {MAX_ENTRIES}")
        for index, entry in enumerate(request.entries):
            check_token(violations, f"entries[{index}].service", entry.service, MAX_NAME_LENGTH)
            check_token(violations, f"entries[{index}].model", entry.model, MAX_NAME_LENGTH)
            check_token(violations, f"entries[{index}].agent", entry.agent, MAX_NAME_LENGTH)
            _check_usage(violations, f"entries[{index}].usage", entry.usage)
        violations.raise_if_any()
        rows = [UsageRow(entry.service, entry.model, entry.agent, amounts_of(entry.usage)) for entry in request.entries]
        with storage_errors():
            ledger = await self._storage.record_usage(session_id, rows, datetime.now(UTC), tenant=current_tenant.get())
        return control_pb2.RecordUsageResponse(total=usage_of(ledger.total), budget_exhausted=ledger.exhausted)

    async def SetUsageBudget(
        self, request: control_pb2.SetUsageBudgetRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.UsageLedger:
        session_id = session_id_from_name("session", request.session)
        violations = Violations()
        violations.check(
            math.isfinite(request.max_cost) and request.max_cost >= 0, "max_cost", "must be a finite number, at least 0"
        )
        violations.check(request.max_tokens >= 0, "max_tokens", "must be at least 0")
        violations.raise_if_any()
        with storage_errors():
            ledger = await self._storage.set_usage_budget(
                session_id, request.max_cost, request.max_tokens, tenant=current_tenant.get()
            )
        return ledger_message(ledger, request.session)

    async def GetUsageLedger(
        self, request: control_pb2.GetUsageLedgerRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.UsageLedger:
        session_id = session_id_from_name("session", request.session)
        with storage_errors():
            ledger = await self._storage.get_usage_ledger(
                session_id, tenant=current_tenant.get(), with_rows=not request.totals_only
            )
        return ledger_message(ledger, request.session)

    async def GetTenantSpend(
        self, request: control_pb2.GetTenantSpendRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.TenantSpend:
        tenant = current_tenant.get()
        day, month = day_and_month(datetime.now(UTC))
        with storage_errors():
            today, this_month = await self._storage.tenant_spend(tenant, day, month)
        return control_pb2.TenantSpend(tenant=tenant, today=usage_of(today), this_month=usage_of(this_month))
