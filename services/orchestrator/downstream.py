"""Stubs of the services a study calls, over channels with deadlines and id propagation."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from tinytroupe_mesh_api.content.v1 import content_pb2_grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2_grpc
from tinytroupe_mesh_api.population.v1 import population_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2_grpc

from services.common.control_client import ControlClient
from services.orchestrator.estimate import Estimator, estimator_for
from services.runtime.clients import open_channel
from services.runtime.config import LLMSettings, MeshSettings


@dataclass
class Downstream:
    control: ControlClient
    population: population_pb2_grpc.PopulationServiceStub
    simulation: simulation_pb2_grpc.SimulationServiceStub
    content: content_pb2_grpc.ContentServiceStub
    extraction: extraction_pb2_grpc.ResultsExtractionServiceStub
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    estimator: Estimator = field(default_factory=lambda: estimator_for(LLMSettings()))
    """Prices and sizes the model calls of a request: the estimates, and which budgets can be kept."""

    @classmethod
    def open(cls, settings: MeshSettings) -> Downstream:
        channels = {
            name: open_channel(settings.address_of(name), settings)
            for name in ("control", "population", "simulation", "content", "extraction")
        }
        for channel in channels.values():
            # Connect to every replica now: round_robin sends calls only to replicas already connected, so a
            # study's first concurrent calls (the parts of a large one) would all go to the first to connect.
            channel.get_state(try_to_connect=True)
        return cls(
            control=ControlClient(channels["control"]),
            population=population_pb2_grpc.PopulationServiceStub(channels["population"]),
            simulation=simulation_pb2_grpc.SimulationServiceStub(channels["simulation"]),
            content=content_pb2_grpc.ContentServiceStub(channels["content"]),
            extraction=extraction_pb2_grpc.ResultsExtractionServiceStub(channels["extraction"]),
            channels=list(channels.values()),
            estimator=estimator_for(settings.llm),
        )

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
