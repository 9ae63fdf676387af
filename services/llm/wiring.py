"""How a service reaches the model: its own LLM client whose response cache lives in control."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from tinytroupe.control.v1 import control_pb2_grpc

from services.llm.client import LLMClient
from services.llm.control_cache import ControlResponseCache
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings


@dataclass
class ModelAccess:
    """The LLM client and the channel to control it caches through; `aclose()` closes both."""

    llm: LLMClient
    control_channel: grpc.aio.Channel

    @classmethod
    def open(cls, settings: MeshSettings) -> ModelAccess:
        channel = open_channel(settings.control_address, settings)
        return cls(LLMClient(settings.llm, cache=ControlResponseCache(channel)), channel)

    def control(self) -> control_pb2_grpc.SimulationControlServiceStub:
        return control_pb2_grpc.SimulationControlServiceStub(self.control_channel)

    async def aclose(self) -> None:
        await self.llm.aclose()
        await self.control_channel.close()
