"""Runs a world round by round, reporting events; the state between rounds is what checkpoints hold.

In the default concurrent order every agent acts at once on the same snapshot and messages are
delivered at the end of the round, so a round costs one model latency however many agents take part
(the LLM layer's concurrency cap and rate budget are the only bounds). In the sequential order
(TinyTroupe's) agents act one after another and later agents hear earlier ones in the same round.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from services.engine.llm_port import StructuredLLM
from services.engine.simulation.consolidation import Consolidations
from services.engine.simulation.events import (
    ActionRecorded,
    AgentFailed,
    RoundCompleted,
    RoundStarted,
    SimulationEvent,
    SimulationFinished,
    TooManyAgentsFailed,
)
from services.engine.simulation.memory import remember
from services.engine.simulation.plan import PlanDriver, current_step, is_model_interview
from services.engine.simulation.prompt import TurnView
from services.engine.simulation.reply import TurnAction
from services.engine.simulation.state import (
    MODERATOR,
    ActionType,
    AgentState,
    EnvironmentType,
    MemoryEvent,
    MemoryKind,
    PendingMessage,
    TurnOrder,
    WorldState,
)
from services.engine.simulation.turn import TurnFailure, TurnOutcome, TurnSettings, take_turn
from services.engine.simulation.world import (
    follow_up_question,
    heard_event,
    last_talk_by_agent,
    recipients_of,
    stimulus_recipients,
    stimulus_text,
    talk_recipient,
)

_ACTION_MEMORY = {ActionType.TALK: MemoryKind.SAID, ActionType.THINK: MemoryKind.THOUGHT}


class Simulation:
    """Runs the remaining rounds of `state`, mutating it; `run()` yields events as they happen."""

    def __init__(
        self, state: WorldState, llm: StructuredLLM, *, session: str, settings: TurnSettings | None = None
    ) -> None:
        self.state = state
        self.llm = llm
        self.session = session
        self.settings = settings or TurnSettings()
        self._names = [agent.name for agent in state.agents]
        self._position = {name: index for index, name in enumerate(self._names)}
        focus_group = state.config.environment is EnvironmentType.FOCUS_GROUP
        self._audience = {name.casefold(): name for name in self._names} if focus_group else {}
        self._stimulus_recipients = set(stimulus_recipients(state.stimulus, self._names))

    async def run(self) -> AsyncIterator[SimulationEvent]:
        state = self.state
        plan = PlanDriver(state, self.llm, session=self.session) if state.steps else None
        if state.rounds_completed == 0 and plan is None:
            for interaction in state.transcript:
                yield ActionRecorded(interaction)
        while plan is not None or state.rounds_completed < state.config.rounds:
            if plan is not None:
                prepared = await plan.before_round()
                if prepared is None:
                    break
                self._stimulus_recipients = set(stimulus_recipients(state.stimulus, self._names))
                for event in prepared:
                    yield event
            round_number = state.rounds_completed + 1
            yield RoundStarted(round_number, state.step, state.step_rounds_completed + 1 if plan else 0)
            inboxes: dict[str, list[PendingMessage]] = {name: [] for name in self._names}
            for message in state.pending_messages:
                for name in recipients_of(message, self._names):
                    inboxes[name].append(message)
            state.pending_messages = []
            for event in self._moderator_follow_ups(round_number, inboxes):
                yield event
            if state.config.turn_order is TurnOrder.SEQUENTIAL:
                round_events = self._sequential_round(round_number, inboxes)
            else:
                round_events = self._concurrent_round(round_number, inboxes)
            consolidations = Consolidations(
                self.llm, state.agents if state.config.enable_memory else [], self.settings.memory, session=self.session
            )
            try:
                failed = 0
                async for event in round_events:
                    failed += isinstance(event, AgentFailed)
                    yield event
                total = len(state.agents)
                if failed and failed / total > state.config.max_failed_fraction:
                    raise TooManyAgentsFailed(round_number, failed, total, state.config.max_failed_fraction)
                await consolidations.apply()
            finally:
                await consolidations.cancel()
            state.rounds_completed = round_number
            if plan is not None:
                state.step_rounds_completed += 1
            yield RoundCompleted(round_number, total - failed, failed)
        yield SimulationFinished(state.rounds_completed, len(state.agents), len(state.failed_agents))

    def _moderator_follow_ups(
        self, round_number: int, inboxes: dict[str, list[PendingMessage]]
    ) -> list[ActionRecorded]:
        """In an interview after the first round (of the question): the moderator asks each interviewee to
        elaborate, unless the plan's interviewer writes the follow-ups."""
        step = current_step(self.state)
        first = round_number == 1 if step is None else self.state.step_rounds_completed == 0
        if (
            self.state.config.environment is not EnvironmentType.INTERVIEW
            or first
            or is_model_interview(self.state.config, step)
        ):
            return []
        said = last_talk_by_agent(self.state.transcript, round_number - 1)
        events = []
        for name in self._names:
            if name not in self._stimulus_recipients:
                continue
            question = follow_up_question(said.get(name, ""), self.state.stimulus)
            inboxes[name].append(PendingMessage(recipient=name, sender=MODERATOR, content=question))
            events.append(
                ActionRecorded(self.state.record(round_number, MODERATOR, ActionType.STIMULUS, question, target=name))
            )
        return events

    def _acting(self, inboxes: dict[str, list[PendingMessage]]) -> list[AgentState]:
        """The agents that take a turn this round: all, except in an interview question whose follow-ups
        the interviewer writes, where after the question's first round only those asked a follow-up act."""
        step = current_step(self.state)
        if not is_model_interview(self.state.config, step) or self.state.step_rounds_completed == 0:
            return self.state.agents
        return [agent for agent in self.state.agents if inboxes[agent.name]]

    def _view(self, agent: AgentState, round_number: int, inbox: list[MemoryEvent]) -> TurnView:
        config = self.state.config
        focus_group = config.environment is EnvironmentType.FOCUS_GROUP
        reminder = ""
        if not config.enable_memory and not inbox and agent.name in self._stimulus_recipients:
            reminder = stimulus_text(self.state.stimulus, agent.name)
        step = current_step(self.state)
        return TurnView(
            round=round_number if step is None else self.state.step_rounds_completed + 1,
            rounds=config.rounds if step is None else step.rounds,
            environment=config.environment,
            others=tuple(name for name in self._names if name != agent.name) if focus_group else (),
            enable_thinking=config.enable_thinking,
            enable_memory=config.enable_memory,
            max_actions=config.max_actions_per_turn,
            reminder=reminder,
            quality=config.quality,
        )

    async def _turn(self, agent: AgentState, round_number: int, inbox: list[MemoryEvent]) -> TurnOutcome | TurnFailure:
        return await take_turn(
            self.llm,
            agent,
            inbox,
            self._view(agent, round_number, inbox),
            session=self.session,
            audience=self._audience,
            settings=self.settings,
        )

    async def _concurrent_round(
        self, round_number: int, inboxes: dict[str, list[PendingMessage]]
    ) -> AsyncIterator[SimulationEvent]:
        perceived = {
            name: [heard_event(message, name, round_number) for message in inboxes[name]] for name in self._names
        }
        acting = self._acting(inboxes)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._turn(agent, round_number, perceived[agent.name])) for agent in acting]
        next_pending: list[PendingMessage] = []
        for agent, task in zip(acting, tasks, strict=True):
            for event in self._apply(agent, round_number, perceived[agent.name], task.result(), next_pending):
                yield event
        self.state.pending_messages = next_pending

    async def _sequential_round(
        self, round_number: int, inboxes: dict[str, list[PendingMessage]]
    ) -> AsyncIterator[SimulationEvent]:
        next_pending: list[PendingMessage] = []
        for index, agent in enumerate(self._acting(inboxes)):
            perceived = [heard_event(message, agent.name, round_number) for message in inboxes[agent.name]]
            outcome = await self._turn(agent, round_number, perceived)
            sent: list[PendingMessage] = []
            for event in self._apply(agent, round_number, perceived, outcome, sent):
                yield event
            for message in sent:  # later agents hear it now, earlier ones next round
                for name in recipients_of(message, self._names):
                    if self._position[name] > index:
                        inboxes[name].append(message)
                    else:
                        next_pending.append(message.model_copy(update={"recipient": name}))
        self.state.pending_messages = next_pending

    def _apply(
        self,
        agent: AgentState,
        round_number: int,
        perceived: list[MemoryEvent],
        outcome: TurnOutcome | TurnFailure,
        outbox: list[PendingMessage],
    ) -> list[SimulationEvent]:
        """Records a turn: what the agent heard and did enters its memory, the transcript and the outbox."""
        remembers = self.state.config.enable_memory
        policy = self.settings.memory
        if remembers:
            for event in perceived:
                remember(agent, event, policy)
        if isinstance(outcome, TurnFailure):
            self.state.failed_agents[agent.name] = round_number
            return [AgentFailed(round_number, agent.name, outcome.reason)]
        if outcome.quality is not None:
            self.state.turn_quality.append(outcome.quality)
        events: list[SimulationEvent] = []
        for action in outcome.actions:
            interaction = self.state.record(round_number, agent.name, action.type, action.content, action.target)
            events.append(ActionRecorded(interaction))
            if remembers and action.type in _ACTION_MEMORY:
                remember(
                    agent,
                    MemoryEvent(
                        round=round_number, kind=_ACTION_MEMORY[action.type], source=agent.name, content=action.content
                    ),
                    policy,
                )
            outbox.extend(self._deliveries(agent.name, action))
        agent.cognitive_state = outcome.cognitive_state
        return events

    def _deliveries(self, speaker: str, action: TurnAction) -> list[PendingMessage]:
        recipient = talk_recipient(self.state.config, action.target) if action.type is ActionType.TALK else None
        if recipient is None:
            return []
        return [PendingMessage(recipient=recipient, sender=speaker, content=action.content, target=action.target)]
