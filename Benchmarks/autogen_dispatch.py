#!/usr/bin/env python3
"""AutoGen core peer for `plexus bench dispatch` (autogen-core 0.7, no network).

  autogen_dispatch.py --agents K --messages N

The same fan-out as the Swift runs: K agents subscribed to one topic, one publisher
sharing N context messages, each message delivered to every agent (K x N deliveries).
AutoGen's `SingleThreadedAgentRuntime` gives one agent instance per agent type and
topic source, so each of the K agents is its own type with a `TypeSubscription` to
the topic type "knowledge"; the publisher publishes to `DefaultTopicId("knowledge")`.

Timing (monotonic `time.perf_counter_ns`, in this process):
  seconds   from just before the first publish until the last handler entry;
  latency   handler entry minus the publish time carried in the message's data.

Prints progress on stderr and one JSON line on stdout:
  {"deliveries": K*N, "seconds": s, "p50_us": x, "p99_us": y, "autogen_core": "0.7.5"}
"""
import argparse
import asyncio
import json
import sys
import time
import uuid
from dataclasses import dataclass, field

try:
    import autogen_core
    from autogen_core import (
        DefaultTopicId,
        MessageContext,
        RoutedAgent,
        SingleThreadedAgentRuntime,
        TypeSubscription,
        message_handler,
    )
except ImportError:
    print("autogen-core is not installed: run `make deps` (scripts/python-env.sh)", file=sys.stderr)
    sys.exit(3)

TOPIC_TYPE = "knowledge"


@dataclass
class ContextMessage:
    """The fields of a Plexus context message (CloudEvents attributes plus data)."""

    id: str
    kind: str
    source: str
    subject: str
    time: float
    data: dict = field(default_factory=dict)


class Recorder:
    def __init__(self, expected):
        self.expected = expected
        self.latencies_ns = []
        self.last_ns = 0
        self.done = asyncio.Event()

    def record(self, sent_ns):
        now = time.perf_counter_ns()
        self.latencies_ns.append(now - sent_ns)
        self.last_ns = now
        if len(self.latencies_ns) >= self.expected:
            self.done.set()


class BenchAgent(RoutedAgent):
    def __init__(self, recorder):
        super().__init__("plexus bench dispatch agent")
        self.recorder = recorder
        self.handled = 0

    @message_handler
    async def on_context(self, message: ContextMessage, ctx: MessageContext) -> None:
        self.recorder.record(message.data["sent_ns"])
        self.handled += 1


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


async def run(agents, messages):
    runtime = SingleThreadedAgentRuntime()
    recorder = Recorder(agents * messages)
    for index in range(agents):
        agent_type = f"bench-{index}"
        await BenchAgent.register(runtime, agent_type, lambda: BenchAgent(recorder))
        await runtime.add_subscription(TypeSubscription(topic_type=TOPIC_TYPE, agent_type=agent_type))
    runtime.start()
    topic = DefaultTopicId(type=TOPIC_TYPE)
    print(f"autogen: {agents} agents subscribed; publishing {messages} messages", file=sys.stderr, flush=True)
    start_ns = time.perf_counter_ns()
    for sequence in range(messages):
        sent_ns = time.perf_counter_ns()
        message = ContextMessage(
            id=str(uuid.uuid4()),
            kind="observation",
            source="bench-publisher",
            subject="bench/dispatch",
            time=time.time(),
            data={"seq": sequence, "sent_ns": sent_ns},
        )
        await runtime.publish_message(message, topic)
    await recorder.done.wait()
    await runtime.stop_when_idle()
    seconds = (recorder.last_ns - start_ns) / 1e9
    latencies = sorted(recorder.latencies_ns)
    return {
        "deliveries": len(latencies),
        "seconds": seconds,
        "p50_us": percentile(latencies, 0.50) / 1000,
        "p99_us": percentile(latencies, 0.99) / 1000,
        "autogen_core": getattr(autogen_core, "__version__", "unknown"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--messages", type=int, default=10000)
    args = parser.parse_args()
    result = asyncio.run(run(args.agents, args.messages))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
