"""An ONVIF audio backchannel client: GStreamer's rtspsrc with
backchannel=onvif (what an NVR's or a relay's talk button uses) sends a
tone to the camera's speaker while it plays the stream.

usage: backchannel_client.py URL USER PASSWORD HZ

- Plays URL over TCP interleaved, requiring www.onvif.org/ver20/backchannel
  (rtspsrc does, with backchannel=onvif).
- When the server's SDP offers a sendonly audio section, feeds it a sine
  tone of HZ, 8 kHz mono, PCMU, 20 ms packets.
- Prints "talking" once a packet was taken by rtspsrc after the server's
  media started flowing (PLAY answered);
  "error: ..." and exits 1 on a pipeline error (a refused SETUP, a wrong
  password). Runs until killed.

Run with /usr/bin/python3: the gi module is Debian's.
"""
import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

URL, USER, PASSWORD, HZ = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

Gst.init(None)
loop = GLib.MainLoop()
pipeline = Gst.Pipeline.new("client")
src = Gst.ElementFactory.make("rtspsrc", "src")
src.set_property("location", URL)
src.set_property("user-id", USER)
src.set_property("user-pw", PASSWORD)
src.set_property("backchannel", "onvif")
src.set_property("protocols", "tcp")
src.set_property("latency", 100)
pipeline.add(src)

state = {"talking": False, "sender": None, "playing": False}
# rtspsrc's push handler unrefs the sample it is given, and so does the
# signal's own copy: a sample dropped by Python too would be unreffed
# once more than it was reffed (and break the sender). Python's
# reference is kept instead (50 small samples a second).
kept = []


def on_pad(_src, pad):
    # What the camera sends is not looked at: a sink that does not sync.
    sink = Gst.ElementFactory.make("fakesink")
    sink.set_property("sync", False)
    sink.set_property("async", False)
    pipeline.add(sink)
    sink.sync_state_with_parent()
    pad.link(sink.get_static_pad("sink"))
    pad.add_probe(Gst.PadProbeType.BUFFER, on_media)


def on_media(_pad, _info):
    # The server's media flows only once PLAY was answered: before that,
    # rtspsrc takes backchannel samples without sending them anywhere.
    state["playing"] = True
    return Gst.PadProbeReturn.REMOVE


def start_sender(stream_id):
    sender = Gst.parse_launch(
        f"audiotestsrc is-live=true wave=sine freq={HZ} volume=0.5 samplesperbuffer=160 "
        "! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay pt=0 "
        "! appsink name=out emit-signals=true sync=false"
    )
    sink = sender.get_by_name("out")

    def on_sample(appsink):
        sample = appsink.emit("pull-sample")
        kept.append(sample)
        ret = src.emit("push-backchannel-sample", stream_id, sample)
        if ret == Gst.FlowReturn.OK and state["playing"] and not state["talking"]:
            state["talking"] = True
            print("talking", flush=True)
        return Gst.FlowReturn.OK

    sink.connect("new-sample", on_sample)
    state["sender"] = sender
    # rtspsrc refuses samples until PLAY is answered: those are dropped.
    sender.set_state(Gst.State.PLAYING)


def on_select(_src, stream_id, caps):
    s = caps.get_structure(0)
    if s.has_field("a-sendonly") and state["sender"] is None:
        start_sender(stream_id)
    return True


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ERROR:
        err, debug = msg.parse_error()
        print(f"error: {err.message} ({debug})", flush=True)
        os._exit(1)


src.connect("pad-added", on_pad)
src.connect("select-stream", on_select)
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
pipeline.set_state(Gst.State.PLAYING)
try:
    loop.run()
except KeyboardInterrupt:
    pass
