"""One experiment's flow: participants once, one child study per arm, then the comparison.

It runs like a study (the same lease, cancellation, resumption and settling: it is a StudyRunner whose
steps differ). Each arm is a study of its own with the request id `{experiment}-arm-{index}`, so a
resumed experiment finds its arms' studies again, and they resume from their own checkpoints.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import structlog
from google.rpc import status_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.checks import extraction_config_violations
from services.common.names import last_segment, operation_name
from services.common.usage import sum_usage
from services.orchestrator import metrics as study_metrics
from services.orchestrator.checkpoints import OPERATION_COMPLETE, STUDY_REQUEST, StudyCheckpoints
from services.orchestrator.experiment.design import between_subjects, seed_of, within_subjects_orders
from services.orchestrator.experiment.plans import arm_steps, arm_stimulus, step_specs
from services.orchestrator.experiment.results import compare_fields
from services.orchestrator.progress import Phase
from services.orchestrator.runner import StopReason, StudyRunner
from services.orchestrator.starting import EXPERIMENT_REQUEST, STUDY, begin_session, store_request
from services.runtime.errors import FailedPrecondition

if TYPE_CHECKING:
    from services.orchestrator.registry import StudyRegistry

log = structlog.get_logger("experiment")

Design = orchestrator_pb2.ExperimentDesign
Mode = orchestrator_pb2.Participants.Mode
Session = control_pb2.Session
EXPERIMENT_LABEL = "experiment"
ARM_LABEL = "arm"


class ExperimentRunner(StudyRunner):
    def __init__(self, *args, registry: StudyRegistry, **kwargs):
        super().__init__(*args, **kwargs)
        self.registry = registry
        self.arm_sessions: list[str] = []

    async def _study(self) -> orchestrator_pb2.ExperimentResult:
        ids = await self.checkpoints.ids()
        if OPERATION_COMPLETE in ids:
            return await self.checkpoints.load(OPERATION_COMPLETE, orchestrator_pb2.ExperimentResult)
        request = await self.checkpoints.load(EXPERIMENT_REQUEST, orchestrator_pb2.RunExperimentRequest)
        if self.resumed:
            await self._record_resumption(ids)
        created = await self._participants(
            orchestrator_pb2.RunStudyRequest(
                participants=request.participants, simulation_config=request.simulation_config
            ),
            ids,
        )
        specs = {agent.name: agent.spec_json for agent in created.agents}
        seed = seed_of(request.seed, self.session.name)
        arm_names = [arm.name.strip() for arm in request.arms]
        orders: dict[str, list[str]] = {}
        if request.design == Design.EXPERIMENT_DESIGN_WITHIN_SUBJECTS:
            groups = [sorted(specs)] * len(request.arms)
            orders = within_subjects_orders(sorted(specs), arm_names, seed)
        else:
            groups = between_subjects(sorted(specs), len(request.arms), seed)
        self.progress.update(
            phase=Phase.PHASE_SIMULATING, message=f"running {len(request.arms)} arms", agents_total=len(specs)
        )
        arm_requests = [
            self._arm_request(request, index, [specs[name] for name in group]) for index, group in enumerate(groups)
        ]
        results = await asyncio.gather(
            *(self._run_arm(arm_request, arm_names[index]) for index, arm_request in enumerate(arm_requests))
        )
        self.progress.update(phase=Phase.PHASE_EXTRACTING, message="comparing the arms")
        arms = [
            orchestrator_pb2.ArmResult(
                name=name, study_operation=result.operation_id, participants=group, result=result
            )
            for name, group, result in zip(arm_names, groups, results, strict=True)
        ]
        fields = extraction_config_violations(request.extraction_config, "extraction_config")[0]
        paired = request.design == Design.EXPERIMENT_DESIGN_WITHIN_SUBJECTS
        steps = step_specs(arm_steps(request, 0))
        comparisons = await asyncio.to_thread(compare_fields, fields, arms, paired=paired, steps=steps)
        own = await self.spend.refresh()
        return orchestrator_pb2.ExperimentResult(
            token_usage=sum_usage(
                own.total if own else study_pb2.TokenUsage(), *(r.metadata.token_usage for r in results)
            ),
            estimate=self.downstream.estimator.experiment(request),
            operation=operation_name(self.session_id),
            session=self.session.name,
            design=request.design or Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS,
            seed=seed,
            arms=arms,
            comparisons=comparisons,
            arm_orders={name: ", ".join(order) for name, order in orders.items()},
        )

    def _arm_request(
        self, request: orchestrator_pb2.RunExperimentRequest, index: int, specs: list[str]
    ) -> orchestrator_pb2.RunStudyRequest:
        arm = request.arms[index]
        config = request.session_config
        extraction = study_pb2.ExtractionConfig()
        extraction.CopyFrom(request.extraction_config)
        extraction.extract_results = bool(extraction.fields)  # a plan's steps may extract alone
        return orchestrator_pb2.RunStudyRequest(
            request_id=f"{self.session_id}-arm-{index}",
            session_config=orchestrator_pb2.SessionConfig(
                session_name=f"{config.session_name or 'experiment'}: {arm.name.strip()}",
                description=config.description,
                cache_file=f"{config.cache_file}-arm-{index}" if config.cache_file else "",
                labels={**config.labels, EXPERIMENT_LABEL: self.session_id, ARM_LABEL: str(index)},
            ),
            participants=orchestrator_pb2.Participants(
                mode=Mode.MODE_FROM_POPULATION,
                specifications=[json.dumps([json.loads(spec) for spec in specs])],
                fragments=list(arm.fragments),
                context=request.participants.context,
            ),
            simulation_config=request.simulation_config,
            stimulus=arm_stimulus(request, index),
            steps=arm_steps(request, index),
            extraction_config=extraction,
            max_cost=request.max_cost / len(request.arms),
            max_tokens=request.max_tokens // len(request.arms),
        )

    async def _run_arm(self, request: orchestrator_pb2.RunStudyRequest, arm_name: str) -> orchestrator_pb2.StudyResult:
        """Starts (or finds again) the arm's study and waits for its result; a failed arm fails the experiment."""
        session = await begin_session(self.downstream.control, request.session_config, request.request_id, STUDY)
        self.arm_sessions.append(session.name)
        fresh = session.checkpoint_count == 0
        if session.state == Session.STATE_ACTIVE:
            await store_request(self.downstream.control, session, STUDY_REQUEST, request)
        while session.state == Session.STATE_ACTIVE:
            runner = self.registry.get(last_segment(session.name)) or await self.registry.claim(
                session, resumed=not fresh
            )
            fresh = False
            if runner is not None and runner.task is not None:
                await asyncio.wait({runner.task})  # never cancels the arm's study with the experiment
            else:  # another replica runs it: follow it in control
                await asyncio.sleep(self.settings.watch_poll_interval_s)
            session = await self.downstream.control.get_session(session.name)
        checkpoints = StudyCheckpoints(self.downstream.control, session.name)
        if session.state == Session.STATE_ENDED:
            return await checkpoints.load(OPERATION_COMPLETE, orchestrator_pb2.StudyResult)
        failure = await checkpoints.load_failure(status_pb2.Status)
        reason = failure.message if failure is not None else session.end_reason
        raise FailedPrecondition("ARM_FAILED", f"arm {arm_name!r} failed: {reason}", subject=session.name)

    async def _complete(self, result: orchestrator_pb2.ExperimentResult) -> None:
        await self.checkpoints.store(OPERATION_COMPLETE, result)
        await self._end(control_pb2.Session.STATE_ENDED, "completed")
        self.progress.update(phase=Phase.PHASE_DONE, message="completed")
        study_metrics.experiment_finished()
        log.info("experiment_completed", session=self.session.name, arms=len(result.arms))

    async def _stopped(self) -> None:
        if self.stop_reason is StopReason.CANCELLED:
            await asyncio.gather(*(self.registry.cancel(last_segment(name)) for name in self.arm_sessions))
        await super()._stopped()
