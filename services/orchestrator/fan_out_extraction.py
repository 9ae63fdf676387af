"""Per-agent extraction of a large study in parts, one ExtractResults call per part of its agents.

The channel's round_robin spreads the parts over the extraction replicas. Each part reads its agents'
words and what every agent was shown; the parts' individual results are merged in order and the
statistics and quality computed once over all of them (services/common/extraction_statistics.py).
A study plan's steps, the rapporteur and the whole-world mode read everyone at once: one call.
"""

from __future__ import annotations

from collections.abc import Sequence

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from services.common.checks import extraction_config_violations
from services.common.extraction_statistics import add_statistics
from services.common.usage import sum_usage
from services.orchestrator.fan_out import part_ranges, part_suffix
from services.orchestrator.participants import run_all

PER_AGENT_MODES = frozenset({study_pb2.ExtractionConfig.MODE_UNSPECIFIED, study_pb2.ExtractionConfig.MODE_PER_AGENT})


async def extract_results(
    extraction: extraction_pb2_grpc.ResultsExtractionServiceStub,
    request: extraction_pb2.ExtractResultsRequest,
    *,
    chunk: int,
    timeout_s: float,
) -> extraction_pb2.ExtractResultsResponse:
    """The extraction of `request`: one call, or one per part of at most `chunk` agents, merged."""
    ranges = part_ranges(len(request.agents), chunk)
    if len(ranges) == 1 or request.steps or request.config.mode not in PER_AGENT_MODES:
        return await extraction.ExtractResults(request, timeout=timeout_s)
    parts = [extraction_part(request, index, first, count) for index, (first, count) in enumerate(ranges)]

    async def extract(part: extraction_pb2.ExtractResultsRequest) -> extraction_pb2.ExtractResultsResponse:
        return await extraction.ExtractResults(part, timeout=timeout_s)

    responses = await run_all([extract(part) for part in parts])
    return merge_extractions(request, responses)


def extraction_part(
    request: extraction_pb2.ExtractResultsRequest, index: int, first: int, count: int
) -> extraction_pb2.ExtractResultsRequest:
    """Part `index` of a per-agent extraction: its agents, their words and what they were shown, without
    statistics (they are computed over all parts)."""
    everyone = {agent.name for agent in request.agents}
    agents = request.agents[first : first + count]
    names = {agent.name for agent in agents}
    part = extraction_pb2.ExtractResultsRequest(
        session=request.session,
        agents=agents,
        transcript=[
            interaction
            for interaction in request.transcript
            if interaction.agent_name in names
            or (interaction.agent_name not in everyone and interaction.target not in everyone - names)
        ],
        config=request.config,
        failed_agents=[name for name in request.failed_agents if name in names],
        request_id=f"{request.request_id}{part_suffix(index)}" if request.request_id else "",
    )
    part.config.statistical_analysis = False
    return part


def merge_extractions(
    request: extraction_pb2.ExtractResultsRequest, responses: Sequence[extraction_pb2.ExtractResultsResponse]
) -> extraction_pb2.ExtractResultsResponse:
    """The parts' individual results in order, usage summed, statistics and quality over all of them."""
    merged = extraction_pb2.ExtractResultsResponse()
    for response in responses:
        merged.results.individual_results.extend(response.results.individual_results)
        merged.usage.CopyFrom(sum_usage(merged.usage, response.usage))
    specs, _ = extraction_config_violations(request.config, "config")
    failed = set(request.failed_agents)
    extracted = [agent.name for agent in request.agents if agent.name not in failed]
    add_statistics(
        merged.results,
        specs,
        statistics=request.config.statistical_analysis,
        failed_agents=len(failed) + sum(1 for result in merged.results.individual_results if result.failure_reason),
        total_agents=len(extracted) + len(failed),
    )
    return merged
