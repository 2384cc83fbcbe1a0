"""Unmodified ONVIF clients from PyPI against vto (tests/tests/onvif_out.rs).

Run with the venv's python (.venv-peers, made by .ci/lib.sh
ensure_test_tools): onvif-zeep-async 4.3.0 (the library of Home
Assistant's ONVIF integration), used the way that integration uses it, and
wsdiscovery 2.1.2 for WS-Discovery. Prints one JSON object; the test
reads and checks it.

    onvif_clients.py ha HOST PORT USER PASSWORD
    onvif_clients.py call HOST PORT USER PASSWORD OPERATION
    onvif_clients.py probe HOST UDP_PORT SECONDS
"""

import asyncio
import json
import os
import socket
import sys


def out(obj):
    print(json.dumps(obj), flush=True)


def fault(e):
    """A zeep Fault (or another error) as JSON."""
    return {
        "error": type(e).__name__,
        "message": str(getattr(e, "message", e)),
        "code": str(getattr(e, "code", "")),
        "subcodes": [str(s) for s in (getattr(e, "subcodes", None) or [])],
    }


def camera(host, port, user, password):
    import onvif
    from onvif import ONVIFCamera

    wsdl = os.path.join(os.path.dirname(onvif.__file__), "wsdl")
    # As Home Assistant makes it (no cache: nothing written outside the test).
    return ONVIFCamera(host, int(port), user, password, wsdl, no_cache=True, adjust_time=True)


async def ha(host, port, user, password):
    """What Home Assistant's ONVIF integration asks when a camera is added."""
    cam = camera(host, port, user, password)
    try:
        await cam.update_xaddrs()
        dev = await cam.create_devicemgmt_service()
        clock = await dev.GetSystemDateAndTime()
        info = await dev.GetDeviceInformation()
        caps = await cam.get_capabilities()
        interfaces = await dev.GetNetworkInterfaces()
        scopes = await dev.GetScopes()
        media = await cam.create_media_service()
        media_caps = await media.GetServiceCapabilities()
        profiles = await media.GetProfiles()
        sources = await media.GetVideoSources()
        result = {
            "xaddrs": cam.xaddrs,
            "clock_year": clock.UTCDateTime.Date.Year,
            "manufacturer": info.Manufacturer,
            "model": info.Model,
            "firmware": info.FirmwareVersion,
            "serial": info.SerialNumber,
            "media_xaddr": caps["Media"]["XAddr"] if caps and caps["Media"] else None,
            "interfaces": [i.IPv4.Config.Manual[0].Address for i in interfaces if i.IPv4],
            "scopes": [s.ScopeItem for s in scopes],
            "snapshot_capable": bool(media_caps.SnapshotUri),
            "video_sources": [[s.Resolution.Width, s.Resolution.Height] for s in sources],
            "profiles": [],
        }
        for p in profiles:
            enc = p.VideoEncoderConfiguration
            req = media.create_type("GetStreamUri")
            req.ProfileToken = p.token
            req.StreamSetup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
            uri = await media.GetStreamUri(req)
            result["profiles"].append(
                {
                    "token": p.token,
                    "name": p.Name,
                    "encoding": enc.Encoding,
                    "width": enc.Resolution.Width,
                    "height": enc.Resolution.Height,
                    "fps": enc.RateControl.FrameRateLimit,
                    "audio": p.AudioEncoderConfiguration.Encoding
                    if p.AudioEncoderConfiguration
                    else None,
                    "stream_uri": uri.Uri,
                }
            )
        token = profiles[0].token
        result["snapshot_uri"] = await cam.get_snapshot_uri(token)
        jpeg = await cam.get_snapshot(token)
        result["snapshot_len"] = len(jpeg) if jpeg else 0
        result["snapshot_jpeg"] = bool(jpeg) and jpeg[:2] == b"\xff\xd8"
        out(result)
    except Exception as e:  # noqa: BLE001 - the test reads what went wrong
        out(fault(e))
    finally:
        await cam.close()


async def call(host, port, user, password, operation):
    """One device management operation, authenticated."""
    cam = camera(host, port, user, password)
    try:
        await cam.update_xaddrs()
        dev = await cam.create_devicemgmt_service()
        answer = await getattr(dev, operation)()
        out({"ok": str(answer)[:2000]})
    except Exception as e:  # noqa: BLE001
        out(fault(e))
    finally:
        await cam.close()


def probe(host, port, secs):
    """A WS-Discovery Probe for NetworkVideoTransmitter, unicast, as
    wsdiscovery writes it; its answer read by wsdiscovery."""
    from wsdiscovery import QName
    from wsdiscovery.actions import constructProbe
    from wsdiscovery.message import createSOAPMessage, parseSOAPMessage

    t = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")
    env = constructProbe([t], [])
    data = createSOAPMessage(env)
    data = data.encode() if isinstance(data, str) else data
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(float(secs))
    try:
        s.sendto(data, (host, int(port)))
        reply, _ = s.recvfrom(65536)
    except socket.timeout:
        out({"error": "timeout"})
        return
    finally:
        s.close()
    m = parseSOAPMessage(reply, host)
    out(
        {
            "message_id": env.getMessageId(),
            "relates_to": m.getRelatesTo(),
            "action": m.getAction(),
            "matches": [
                {
                    "epr": pm.getEPR(),
                    "types": [str(t) for t in pm.getTypes()],
                    "scopes": [str(sc) for sc in pm.getScopes()],
                    "xaddrs": list(pm.getXAddrs()),
                }
                for pm in m.getProbeResolveMatches()
            ],
        }
    )


def main():
    action = sys.argv[1]
    if action == "ha":
        asyncio.run(ha(*sys.argv[2:6]))
    elif action == "call":
        asyncio.run(call(*sys.argv[2:7]))
    elif action == "probe":
        probe(*sys.argv[2:5])
    else:
        sys.exit(f"unknown action {action}")


if __name__ == "__main__":
    main()
