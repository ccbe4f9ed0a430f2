#!/usr/bin/env python3
"""LangGraph SQLite checkpointer peer for `plexus bench memory` (langgraph-checkpoint-sqlite 3).

  langgraph_memory.py --rows FILE --db FILE [--synchronous normal]

Writes one state update per row of FILE with LangGraph's `SqliteSaver`, the way a
LangGraph agent persists its state after each step: one `put` per update on one thread,
the update's channel value being the row, the same message `plexus bench memory` logs
(topic, direction, agent, time and the CloudEvents envelope as a dict). FILE is JSON
lines, made by the bench from the same rows as every other tool; it is read and parsed
before the clock starts, as the sqlite3 CLI's SQL file is written before its clock starts.

`SqliteSaver` commits every `put` on a WAL database. As shipped, the connection keeps
SQLite's default `synchronous = FULL` (an fsync per commit): that is what its users
get. With `--synchronous normal` the connection is set as Plexus's memory store sets
its own (`synchronous = NORMAL`: a commit survives a process crash, a power cut may lose
the last ones), so the two differ only in committing per update rather than per batch.

Prints progress on stderr and one JSON line on stdout:
  {"updates": N, "seconds": s, "langgraph_checkpoint_sqlite": "3.1.2", "synchronous": 2}
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", required=True, help="JSON lines: topic, direction, agent, time, envelope")
    parser.add_argument("--db", required=True)
    parser.add_argument("--synchronous", choices=["normal"], help="set PRAGMA synchronous (default: SQLite's, FULL)")
    args = parser.parse_args()

    with open(args.rows, encoding="utf-8") as file:
        rows = [json.loads(line) for line in file if line.strip()]

    connection = sqlite3.connect(args.db, check_same_thread=False)
    if args.synchronous:
        connection.execute(f"PRAGMA synchronous = {args.synchronous.upper()}")
    saver = SqliteSaver(connection)
    saver.setup()
    synchronous = connection.execute("PRAGMA synchronous").fetchone()[0]
    config = {"configurable": {"thread_id": "bench", "checkpoint_ns": ""}}
    progress_every = max(len(rows) // 10, 1)
    started = time.perf_counter()
    for i, row in enumerate(rows):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"message": row}
        checkpoint["channel_versions"] = {"message": i + 1}
        config = saver.put(config, checkpoint, {"source": "loop", "step": i}, {"message": i + 1})
        if (i + 1) % progress_every == 0:
            print(f"langgraph: {i + 1:,} / {len(rows):,} updates", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    connection.close()
    print(json.dumps({
        "updates": len(rows), "seconds": seconds,
        "langgraph_checkpoint_sqlite": version("langgraph-checkpoint-sqlite"), "synchronous": synchronous,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
