"""A stand-in provider with a fixed latency, for tests, the benchmark and demos (like dramatiq's StubBroker)."""

from __future__ import annotations

import asyncio

from app.llm.base import TicketBrief, TicketProse, Usage
from app.llm.offline import compose
from app.llm.pricing import approx_tokens, usage_for
from app.llm.prompts import approx_prompt_tokens


class SimulatedProvider:
    """Answers with the offline text after `latency_s`, reports token use as a real model would, counts calls."""

    name = "simulated"

    def __init__(self, latency_s: float = 1.5, model: str = "simulated") -> None:
        self.model = model
        self.latency_s = latency_s
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency_s)
        finally:
            self.in_flight -= 1
        prose = compose(brief)
        answer = " ".join((prose.user_story, *prose.success_criteria))
        return prose, usage_for(self.model, approx_prompt_tokens(brief, feedback), approx_tokens(answer))

    async def ping(self) -> None:
        await asyncio.sleep(self.latency_s)

    async def aclose(self) -> None:
        return None
