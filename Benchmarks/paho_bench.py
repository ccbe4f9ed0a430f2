#!/usr/bin/env python3
"""paho-mqtt peer for `plexus bench mqtt` (paho-mqtt 2.x, MQTT 5).

  paho_bench.py sub --port P --topic T --count N [--qos Q]
      subscribe, print "ready" after SUBACK, exit after N messages.
  paho_bench.py pub --port P --topic T --count N --size S [--qos Q] [--inflight W]
      publish N messages of S bytes; QoS 0: exit once all are written to the socket
      and DISCONNECT is sent; QoS 1/2: exit once all are acknowledged.

Prints one JSON line with the tool's own timing on stdout when done. The Swift
bench times the process from the outside the same way it times mosquitto_pub/sub.
"""
import argparse
import json
import sys
import threading
import time

try:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
except ImportError:
    print("paho-mqtt is not installed: run `make deps` (scripts/python-env.sh)", file=sys.stderr)
    sys.exit(3)


def make_client(client_id):
    return mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )


def run_sub(args):
    client = make_client(args.client_id or "paho-bench-sub")
    state = {"count": 0, "first": None}
    done = threading.Event()

    def on_connect(client, userdata, flags, reason_code, properties):
        client.subscribe(args.topic, qos=args.qos)

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        print("ready", flush=True)

    def on_message(client, userdata, message):
        if state["first"] is None:
            state["first"] = time.perf_counter()
        state["count"] += 1
        if state["count"] >= args.count:
            state["last"] = time.perf_counter()
            client.disconnect()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", args.port, keepalive=60)
    client.loop_forever()
    elapsed = state.get("last", time.perf_counter()) - (state["first"] or time.perf_counter())
    print(json.dumps({"received": state["count"], "first_to_last_seconds": elapsed}), flush=True)


def run_pub(args):
    client = make_client(args.client_id or "paho-bench-pub")
    client.max_inflight_messages_set(args.inflight)
    client.max_queued_messages_set(0)
    payload = b"x" * args.size
    acked = {"count": 0}
    all_acked = threading.Event()
    connected = threading.Event()

    def on_connect(client, userdata, flags, reason_code, properties):
        connected.set()

    # paho rescans its whole queue on each acknowledgement, so queueing all N messages up
    # front is quadratic; keep at most `inflight` unacknowledged, the same window ours uses.
    window = threading.Semaphore(args.inflight)

    def on_publish(client, userdata, mid, reason_code, properties):
        if args.qos > 0:
            window.release()
        acked["count"] += 1
        if acked["count"] >= args.count:
            all_acked.set()

    client.on_connect = on_connect
    client.on_publish = on_publish
    client.connect("127.0.0.1", args.port, keepalive=60)
    client.loop_start()
    if not connected.wait(10):
        print("paho: no CONNACK within 10 s", file=sys.stderr)
        sys.exit(1)
    start = time.perf_counter()
    info = None
    for _ in range(args.count):
        if args.qos > 0:
            window.acquire()
        info = client.publish(args.topic, payload, qos=args.qos)
    if args.qos == 0:
        info.wait_for_publish()
    else:
        all_acked.wait()
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"published": args.count, "seconds": elapsed}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["sub", "pub"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--qos", type=int, default=0)
    parser.add_argument("--inflight", type=int, default=20)
    parser.add_argument("--client-id")
    args = parser.parse_args()
    run_sub(args) if args.mode == "sub" else run_pub(args)


if __name__ == "__main__":
    main()
