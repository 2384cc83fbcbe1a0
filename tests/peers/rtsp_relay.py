"""GStreamer's RTSP server as a relay of another RTSP camera, for
.ci/bench-rtsp: one shared pull of the camera (rtspsrc over TCP, no
jitter-buffer delay), its H.264 re-packetized unchanged to every client.

usage: rtsp_relay.py PORT CAMERA_URL
Serves rtsp://127.0.0.1:PORT/relay; prints "ready PORT" once listening.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port, camera = sys.argv[1], sys.argv[2]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f"( rtspsrc location={camera} protocols=tcp latency=0 ! rtph264depay ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1 )"
)
factory.set_shared(True)
server.get_mount_points().add_factory("/relay", factory)
server.attach(None)
print(f"ready {server.get_bound_port()}", flush=True)
GLib.MainLoop().run()
