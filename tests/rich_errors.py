"""Reading the `google.rpc.Status` details of a failed call, for assertions (the runtime's readers)."""

from __future__ import annotations

import grpc

from services.runtime.errors import error_details, error_reason, field_violations

__all__ = ["error_details", "error_reason", "field_violations", "violations"]


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields a `BadRequest` names, in order."""
    return list(field_violations(error))
