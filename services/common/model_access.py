"""How a service reaches the model: its own LLM client, whose response cache lives in control."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from services.common.control_client import ControlClient
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
    def open(cls, settings: MeshSettings) -> ModelAccess:
        channel = open_channel(settings.control_address, settings)
        control = ControlClient(channel)
        return cls(LLMClient(settings.llm, cache=control), control, channel)

    async def aclose(self) -> None:
        await self.llm.aclose()
        await self.control_channel.close()
