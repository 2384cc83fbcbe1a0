"""A real RTSP camera for the tests: GStreamer's RTSP server on loopback.

usage: rtsp_server.py PORT MODE [basic|digest USER PASSWORD]
MODE: av (H.264 640x480 25 fps + PCMU), video (H.264 only),
      audio (PCMU only: no picture), h265 (H.265 only: unsupported),
      video720 (H.264 1280x720 25 fps, about 2 Mbit/s, the whole picture
      moving: the live video benchmark's camera).
Serves rtsp://127.0.0.1:PORT/cam/realmonitor. Prints "ready PORT" once
listening and "client" for every RTSP connection.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

Gst.init(None)

VIDEO = (
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=25/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! "
    "video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1"
)
# A camera's main stream: 720p at 2 Mbit/s, every frame different (the
# colour bars scroll), a key frame every 2 s, one slice a frame.
VIDEO720 = (
    "videotestsrc is-live=true pattern=smpte horizontal-speed=3 ! "
    "video/x-raw,width=1280,height=720,framerate=25/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=50 bitrate=2048 threads=1 ! "
    "video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1"
)
H265 = (
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! "
    "x265enc tune=zerolatency speed-preset=ultrafast ! rtph265pay name=pay0 pt=96 config-interval=1"
)
AUDIO = (
    "audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=8000,channels=1 ! "
    "mulawenc ! rtppcmupay name={name} pt=0"
)
LAUNCH = {
    "av": f"( {VIDEO} {AUDIO.format(name='pay1')} )",
    "video": f"( {VIDEO} )",
    "video720": f"( {VIDEO720} )",
    "audio": f"( {AUDIO.format(name='pay0')} )",
    "h265": f"( {H265} )",
}

port, mode = sys.argv[1], sys.argv[2]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(LAUNCH[mode])
factory.set_shared(True)

if len(sys.argv) > 5:
    method, user, password = sys.argv[3:6]
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", user)
    if method == "digest":
        auth.add_digest(user, password, token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    else:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_role_from_structure(
        Gst.Structure.new_from_string(
            f"{user}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        )
    )
    factory.set_permissions(permissions)

server.get_mount_points().add_factory("/cam/realmonitor", factory)
server.connect("client-connected", lambda *_: print("client", flush=True))
server.attach(None)
print(f"ready {server.get_bound_port()}", flush=True)
GLib.MainLoop().run()
