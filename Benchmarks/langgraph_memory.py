#!/usr/bin/env python3
"""LangGraph SQLite checkpointer peer for `plexus bench memory` (langgraph-checkpoint-sqlite 3).

  langgraph_memory.py --updates N --db FILE

Writes N state updates with LangGraph's `SqliteSaver`, the way a LangGraph agent persists
its state after each step: one `put` per update on one thread, each carrying a context
message of the same shape as the rows `plexus bench memory` logs (topic, envelope, agent,
direction, time) as the channel value. `SqliteSaver` commits every `put`, which is what
its users get; nothing is tuned here.

Prints progress on stderr and one JSON line on stdout:
  {"updates": N, "seconds": s, "langgraph_checkpoint_sqlite": "3.1.2"}
"""
import argparse
import json
import sqlite3
import sys
import time
from importlib.metadata import version

try:
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.sqlite import SqliteSaver
except ImportError:
    print("langgraph-checkpoint-sqlite is not installed: run `make deps` (scripts/python-env.sh)", file=sys.stderr)
    sys.exit(3)


def envelope(i: int) -> dict:
    room = ("hall", "living", "kitchen", "cellar")[i % 4]
    return {
        "topic": f"plexus/knowledge/climate/{room}",
        "direction": "in",
        "agent": f"agent-{i % 10}",
        "time": 1_780_000_000 + i / 1000,
        "envelope": {
            "specversion": "1.0", "id": f"01JDBENCH{i:017d}", "source": "summariser",
            "type": "plexus.observation", "subject": f"climate/{room}", "time": "2026-11-26T12:00:00Z",
            "datacontenttype": "application/json", "trust": "untrusted",
            "data": {"room": room, "celsius": 20 + (i % 50) / 10, "humidity": 40 + i % 30},
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()

    connection = sqlite3.connect(args.db, check_same_thread=False)
    saver = SqliteSaver(connection)
    saver.setup()
    config = {"configurable": {"thread_id": "bench", "checkpoint_ns": ""}}
    progress_every = max(args.updates // 10, 1)
    started = time.perf_counter()
    for i in range(args.updates):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"message": envelope(i)}
        checkpoint["channel_versions"] = {"message": i + 1}
        config = saver.put(config, checkpoint, {"source": "loop", "step": i}, {"message": i + 1})
        if (i + 1) % progress_every == 0:
            print(f"langgraph: {i + 1:,} / {args.updates:,} updates", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    connection.close()
    print(json.dumps({
        "updates": args.updates, "seconds": seconds,
        "langgraph_checkpoint_sqlite": version("langgraph-checkpoint-sqlite"),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
