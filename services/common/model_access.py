"""How a service reaches the model: its own LLM client, whose response cache lives in control."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from services.common.control_client import ControlClient
from services.common.shared_rate_budget import SharedRateBudget
from services.common.usage_ledger import UsageReporter
from services.llm.client import LLMClient
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings


@dataclass
class ModelAccess:
    """The LLM client and the client of control it caches through; `aclose()` closes both."""

    llm: LLMClient
    control: ControlClient
    control_channel: grpc.aio.Channel

    @classmethod
    def open(cls, settings: MeshSettings, service: str = "") -> ModelAccess:
        """The service's LLM client: it caches through control and reports every call's usage to its ledger."""
        channel = open_channel(settings.control_address, settings)
        control = ControlClient(channel)
        budget = SharedRateBudget.for_settings(control, settings.llm) if settings.llm.rate_budget == "shared" else None
        llm = LLMClient(
            settings.llm,
            cache=control,
            budget=budget,
            usage_sink=UsageReporter(control, service),
            service=service,
        )
        return cls(llm, control, channel)

    async def aclose(self) -> None:
        await self.llm.aclose()
        await self.control_channel.close()
