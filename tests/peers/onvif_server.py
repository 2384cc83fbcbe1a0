"""An ONVIF camera for the tests: answers with the recorded answers of a real
camera (tests/fixtures/onvif/bosch-flexidome-5100i), its stream addresses
pointed at a loopback RTSP server, and checks WS-Security as a camera does.

usage: onvif_server.py PORT RTSP_PORT USER PASSWORD [SKEW_SECONDS]

- Listens on 127.0.0.1:PORT (0: any free port); prints "ready PORT" once
  listening and "ACTION" (with the profile token for GetStreamUri) for every
  request it answers, "refused ACTION" for every one it refuses.
- Device service at /onvif/device_service, media service at
  /onvif/media_service (as the recorded GetCapabilities says); a request on
  the wrong path gets 404.
- The camera's clock is ours plus SKEW_SECONDS (default 0), as
  GetSystemDateAndTime says; a UsernameToken whose Created is more than 30 s
  away from that clock is refused, as is a wrong digest, a wrong user or a
  nonce used before. GetSystemDateAndTime needs no token.
"""
import base64
import hashlib
import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "onvif"
RECORDED = ROOT / "bosch-flexidome-5100i"
FAULT = (ROOT / "fault-not-authorized.xml").read_bytes()
NOT_SUPPORTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"
 xmlns:ter="http://www.onvif.org/ver10/error"><SOAP-ENV:Body><SOAP-ENV:Fault>
<SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Receiver</SOAP-ENV:Value><SOAP-ENV:Subcode>
<SOAP-ENV:Value>ter:ActionNotSupported</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code>
<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">Optional Action Not Implemented</SOAP-ENV:Text>
</SOAP-ENV:Reason></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"""

DEVICE = {"GetSystemDateAndTime", "GetCapabilities"}
MEDIA = {"GetProfiles", "GetStreamUri"}

port, rtsp_port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
skew = timedelta(seconds=int(sys.argv[5]) if len(sys.argv) > 5 else 0)
seen_nonces = set()


def local(tag):
    return tag.rsplit("}", 1)[-1]


def find(node, name):
    return next((n for n in node.iter() if local(n.tag) == name), None)


def camera_now():
    return datetime.now(timezone.utc) + skew


def recorded(name):
    text = (RECORDED / f"{name}.xml").read_text()
    # The camera's stream, moved to the loopback RTSP server's mount point.
    return text.replace(
        "rtsp://192.168.1.201/rtsp_tunnel", f"rtsp://127.0.0.1:{rtsp_port}/cam/realmonitor"
    )


def with_clock(text):
    now = camera_now()
    for field, value in [
        ("Hour", now.hour),
        ("Minute", now.minute),
        ("Second", now.second),
        ("Year", now.year),
        ("Month", now.month),
        ("Day", now.day),
    ]:
        text = re.sub(rf"<tt:{field}>\d+</tt:{field}>", f"<tt:{field}>{value}</tt:{field}>", text, count=1)
    return text


def authorized(envelope):
    token = find(envelope, "UsernameToken")
    if token is None:
        return False
    fields = {local(n.tag): (n.text or "").strip() for n in token}
    try:
        nonce = base64.b64decode(fields.get("Nonce", ""), validate=True)
        created = datetime.strptime(fields.get("Created", ""), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
    except ValueError:
        return False
    digest = base64.b64encode(
        hashlib.sha1(nonce + fields["Created"].encode() + password.encode()).digest()
    ).decode()
    fresh = abs((created - camera_now()).total_seconds()) <= 30
    replayed = fields["Nonce"] in seen_nonces
    seen_nonces.add(fields["Nonce"])
    return fields.get("Username") == user and fields.get("Password") == digest and fresh and not replayed


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        try:
            envelope = ET.fromstring(self.rfile.read(length))
            body = find(envelope, "Body")
            request = next(iter(body))
        except (ET.ParseError, TypeError, StopIteration):
            return self.reply(400, NOT_SUPPORTED)
        action = local(request.tag)
        path = "/onvif/device_service" if action in DEVICE else "/onvif/media_service"
        if action not in DEVICE | MEDIA:
            return self.reply(400, NOT_SUPPORTED)
        if self.path != path:
            return self.reply(404, b"")
        if action != "GetSystemDateAndTime" and not authorized(envelope):
            print(f"refused {action}", flush=True)
            return self.reply(400, FAULT)
        if action == "GetSystemDateAndTime":
            answer = with_clock(recorded(action))
        elif action == "GetStreamUri":
            profile = (find(request, "ProfileToken").text or "").strip()
            if not (RECORDED / f"GetStreamUri-{profile}.xml").exists():
                return self.reply(400, NOT_SUPPORTED)
            action = f"{action} {profile}"
            answer = recorded(f"GetStreamUri-{profile}")
        else:
            answer = recorded(action)
        print(action, flush=True)
        self.reply(200, answer.encode())


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"ready {server.server_address[1]}", flush=True)
server.serve_forever()
