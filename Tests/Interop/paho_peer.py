"""An independent MQTT 5 peer for interoperability tests: Eclipse paho-mqtt 2.x.

  paho_peer.py sub HOST PORT FILTER COUNT TIMEOUT [STOP_TOPIC]
                                                    print READY after SUBACK, then one JSON line per message;
                                                    end after COUNT messages, TIMEOUT seconds, or a message
                                                    on STOP_TOPIC (subscribed too, not printed)
  paho_peer.py pub HOST PORT TOPIC PAYLOAD           publish once at QoS 1 with MQTT 5 properties set

Messages are printed as JSON with the MQTT 5 properties paho decoded, so the Swift
side checks what an independent implementation saw on the wire.
"""
import json
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def connect(host, port, client_id):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(host, int(port), keepalive=30)
    return client


def describe(message):
    props = message.properties
    out = {"topic": message.topic, "payload": message.payload.decode("utf-8", "replace"), "qos": message.qos}
    for name in ("ContentType", "ResponseTopic", "MessageExpiryInterval", "PayloadFormatIndicator"):
        if hasattr(props, name):
            out[name] = getattr(props, name)
    if hasattr(props, "CorrelationData"):
        out["CorrelationData"] = list(props.CorrelationData)
    if hasattr(props, "UserProperty"):
        out["UserProperty"] = [list(pair) for pair in props.UserProperty]
    return out


def subscribe(host, port, topic_filter, count, timeout, stop_topic=None):
    received = []
    stopped = []
    filters = [(topic_filter, 1)] + ([(stop_topic, 1)] if stop_topic else [])

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        print("READY", flush=True)

    def on_message(client, userdata, message):
        if stop_topic and message.topic == stop_topic:
            stopped.append(True)
            return
        received.append(message)
        print(json.dumps(describe(message)), flush=True)

    client = connect(host, port, "paho-sub-%d" % int(time.time() * 1000))
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.subscribe(filters)
    deadline = time.time() + float(timeout)
    while len(received) < int(count) and not stopped and time.time() < deadline:
        client.loop(timeout=0.05)
    client.disconnect()


def publish(host, port, topic, payload):
    client = connect(host, port, "paho-pub-%d" % int(time.time() * 1000))
    client.loop_start()
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = "text/plain"
    props.ResponseTopic = "interop/reply"
    props.CorrelationData = b"\x01\x02\xff"
    props.MessageExpiryInterval = 300
    props.UserProperty = ("origin", "paho")
    props.UserProperty = ("lang", "python")
    info = client.publish(topic, payload, qos=1, properties=props)
    info.wait_for_publish(timeout=10)
    client.disconnect()
    client.loop_stop()
    print("PUBLISHED" if info.is_published() else "NOT PUBLISHED", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "sub":
        subscribe(*sys.argv[2:8])
    elif mode == "pub":
        publish(*sys.argv[2:6])
    else:
        sys.exit("unknown mode %s" % mode)
