"""A study plan run in one world: its steps in order, each opened before its first round.

Opening a step applies its intervention (new facts perceived with the step's stimulus, a new situation
in the recipients' cognitive state) and delivers its stimulus; a focus-group step may be opened by the
moderator in words of its own (one model call). Between the rounds of an interview question the
interviewer reads each answer and writes a follow-up, or none, which ends the question for that agent;
the question ends when nobody has a follow-up. Both roles are played by the model and are not
participants. Every decision is a function of the world state and of cached model answers, so a world
resumed from any round checkpoint, or replayed with the same cache, takes the same path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog
from pydantic import BaseModel, Field

from services.engine.llm_port import StructuredLLM
from services.engine.simulation.events import ActionRecorded
from services.engine.simulation.memory import shorten
from services.engine.simulation.state import (
    EVERYONE,
    INTERVENTION,
    MODERATOR,
    ActionType,
    EnvironmentType,
    PendingMessage,
    PlanStep,
    WorldConfig,
    WorldState,
)
from services.engine.simulation.world import recorded_stimulus, stimulus_recipients, stimulus_text
from services.llm.errors import LLMError

log = structlog.get_logger("simulation.plan")

ROLE_MAX_TOKENS = 200
ROLE_TEXT_CHARS = 600
"""Longest follow-up or opening kept."""
EXCHANGE_LINES = 12
"""Lines of the conversation so far shown to the interviewer or the moderator."""
LINE_CHARS = 300


class InterviewerReply(BaseModel):
    """The interviewer's next question to one interviewee: empty when the answer needs no follow-up."""

    follow_up: str = Field(default="", max_length=2000)


class ModeratorOpening(BaseModel):
    """The moderator's words that open a topic of the agenda."""

    opening: str = Field(default="", max_length=2000)


def plan_world(config: WorldConfig, steps: list[PlanStep], agents: list) -> WorldState:
    """A world before its plan's first step (opened when it runs, see PlanDriver)."""
    return WorldState(config=config, stimulus=steps[0].stimulus, agents=agents, steps=steps)


def current_step(state: WorldState) -> PlanStep | None:
    return state.steps[state.step - 1] if state.step else None


class PlanDriver:
    """Decides what comes before each round of a plan world: a step's opening, follow-ups, or the end."""

    def __init__(self, state: WorldState, llm: StructuredLLM, *, session: str, label: str = "simulation") -> None:
        self.state = state
        self.llm = llm
        self.session = session
        self.label = label

    async def before_round(self) -> list[ActionRecorded] | None:
        """Prepares the next round (its messages pending in the world) and returns what it recorded; None
        when the plan is done."""
        state = self.state
        step = current_step(state)
        if step is not None and 0 < state.step_rounds_completed < step.rounds:
            if not step.max_follow_ups:
                return []
            if asked := await self._follow_ups(step):
                return asked
        elif step is not None and state.step_rounds_completed == 0:
            return []
        if state.step >= len(state.steps):
            return None
        return await self._open(state.step + 1)

    async def _open(self, index: int) -> list[ActionRecorded]:
        state = self.state
        state.step, state.step_rounds_completed = index, 0
        step = state.steps[index - 1]
        state.stimulus = step.stimulus
        names = [agent.name for agent in state.agents]
        recorded: list[ActionRecorded] = []
        intervention = step.intervention
        if intervention is not None:
            targets = stimulus_recipients_of(intervention.target_agents, names)
            if intervention.content:
                recorded += self._deliver(
                    INTERVENTION,
                    intervention.content,
                    lambda _: intervention.content,
                    targets,
                    intervention.target_agents,
                )
            if intervention.context:
                for agent in state.agents:
                    if agent.name in targets:
                        agent.cognitive_state.context = intervention.context
        recipients = stimulus_recipients(step.stimulus, names)
        opening = await self._opening(step, index) if step.moderator_opens else ""
        if opening:
            recorded += self._deliver(MODERATOR, opening, lambda _: opening, recipients, step.stimulus.target_agents)
        else:
            per_recipient = bool(step.stimulus.target_agents) or step.stimulus.blind_options
            recorded += self._deliver(
                MODERATOR,
                recorded_stimulus(step.stimulus),
                lambda name: stimulus_text(step.stimulus, name),
                recipients,
                step.stimulus.target_agents if per_recipient else [],
                per_recipient=per_recipient,
            )
        if step.stimulus.context:
            for agent in state.agents:
                if agent.name in recipients:
                    agent.cognitive_state.context = step.stimulus.context
        return recorded

    def _deliver(
        self,
        sender: str,
        recorded: str,
        heard: Callable[[str], str],
        recipients: list[str],
        targets: Sequence[str],
        *,
        per_recipient: bool | None = None,
    ) -> list[ActionRecorded]:
        """Records `recorded` (once, or once per recipient when the step targets agents) at the world's
        current round count, and leaves it pending for its recipients."""
        state = self.state
        one_by_one = bool(targets) if per_recipient is None else per_recipient
        events = []
        if targets:
            for name in recipients:
                events.append(
                    ActionRecorded(
                        state.record(state.rounds_completed, sender, ActionType.STIMULUS, recorded, target=name)
                    )
                )
        else:
            events.append(ActionRecorded(state.record(state.rounds_completed, sender, ActionType.STIMULUS, recorded)))
        if one_by_one:
            state.pending_messages += [
                PendingMessage(recipient=name, sender=sender, content=heard(name)) for name in recipients
            ]
        else:
            state.pending_messages.append(PendingMessage(recipient=EVERYONE, sender=sender, content=heard("")))
        return events

    async def _follow_ups(self, step: PlanStep) -> list[ActionRecorded]:
        """The interviewer's follow-ups to the agents asked in the last round who answered it."""
        state = self.state
        last_round = state.rounds_completed
        answers = {
            item.agent_name: item.content
            for item in state.transcript
            if item.step == state.step and item.round == last_round and item.action is ActionType.TALK
        }
        if state.step_rounds_completed == 1:
            asked = stimulus_recipients(step.stimulus, [agent.name for agent in state.agents])
        else:
            asked = [
                item.target
                for item in state.transcript
                if item.step == state.step
                and item.round == last_round
                and item.agent_name == MODERATOR
                and item.action is ActionType.STIMULUS
            ]
        interviewees = [name for name in asked if name in answers and name not in state.failed_agents]
        questions = await asyncio.gather(*(self._follow_up(step, name) for name in interviewees))
        round_number = state.rounds_completed + 1
        events = []
        for name, question in zip(interviewees, questions, strict=True):
            if not question:
                continue
            state.pending_messages.append(PendingMessage(recipient=name, sender=MODERATOR, content=question))
            events.append(
                ActionRecorded(state.record(round_number, MODERATOR, ActionType.STIMULUS, question, target=name))
            )
        return events

    async def _follow_up(self, step: PlanStep, name: str) -> str:
        exchange = [
            f"{'You' if item.agent_name == MODERATOR else name}: {shorten(item.content, LINE_CHARS)}"
            for item in self.state.transcript
            if item.step == self.state.step
            and (
                (item.agent_name == name and item.action is ActionType.TALK)
                or (item.agent_name == MODERATOR and item.target in ("", name))
            )
        ]
        asked = self.state.step_rounds_completed - 1
        messages = interviewer_messages(step, name, exchange[-EXCHANGE_LINES:], asked)
        reply = await self._ask(messages, InterviewerReply, "interviewer")
        return shorten(" ".join(reply.follow_up.split()), ROLE_TEXT_CHARS) if reply is not None else ""

    async def _opening(self, step: PlanStep, index: int) -> str:
        said = [
            f"{item.agent_name}: {shorten(item.content, LINE_CHARS)}"
            for item in self.state.transcript
            if item.action is ActionType.TALK
        ]
        messages = moderator_messages(
            step, index, len(self.state.steps), [agent.name for agent in self.state.agents], said[-EXCHANGE_LINES:]
        )
        reply = await self._ask(messages, ModeratorOpening, "moderator")
        return shorten(" ".join(reply.opening.split()), ROLE_TEXT_CHARS) if reply is not None else ""

    async def _ask(self, messages: list[dict[str, str]], model: type[BaseModel], role: str):
        """The role's answer; None when the model could not give one (the plan goes on without it)."""
        try:
            return await self.llm.structured(
                messages,
                model,
                session=self.session,
                label=f"{self.label}.{role}",
                max_tokens=ROLE_MAX_TOKENS,
                temperature=0.0,
            )
        except LLMError as error:
            log.warning("plan_role_failed", role=role, step=self.state.step, error=repr(error))
            return None


def stimulus_recipients_of(targets: Sequence[str], names: Sequence[str]) -> list[str]:
    wanted = set(targets)
    return [name for name in names if name in wanted] if wanted else list(names)


def interviewer_messages(step: PlanStep, name: str, exchange: list[str], asked: int) -> list[dict[str, str]]:
    remaining = step.max_follow_ups - asked
    system = (
        "You are the interviewer of a one-to-one research interview; you are not the interviewee and give no "
        "opinion. Read the interviewee's last answer to the question of the guide and decide whether one "
        "follow-up question would draw out something they have not said yet (a reason, an example, a "
        "contradiction, a vague word). If so, write that one short question, addressed to them; if the "
        'answer is complete, write "". Answer in JSON with "follow_up".'
    )
    user = "\n".join(
        [
            f"Question of the guide: {shorten(step.stimulus.content, ROLE_TEXT_CHARS)}",
            f"Interviewee: {name}. Follow-ups left for this question: {remaining}.",
            "The conversation on this question so far:",
            *exchange,
        ]
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def moderator_messages(
    step: PlanStep, index: int, total: int, names: list[str], said: list[str]
) -> list[dict[str, str]]:
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} others" if len(names) > 12 else "")
    system = (
        f"You moderate a focus group with {shown}; you are not a participant and give no opinion. Open the "
        "next topic of the agenda in two or three sentences of your own: link it to what was just said when "
        'that helps, present the topic, and ask the group about it. Answer in JSON with "opening".'
    )
    lines = [f"Topic {index} of {total}: {shorten(step.stimulus.content, ROLE_TEXT_CHARS)}"]
    if step.stimulus.context:
        lines.append(f"Background: {shorten(step.stimulus.context, ROLE_TEXT_CHARS)}")
    if said:
        lines += ["The discussion so far (most recent last):", *said]
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def is_model_interview(config: WorldConfig, step: PlanStep | None) -> bool:
    """Whether the step's follow-ups are the interviewer's (model-written) rather than fixed."""
    return step is not None and config.environment is EnvironmentType.INTERVIEW and step.max_follow_ups > 0
