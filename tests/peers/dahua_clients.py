"""Unmodified Dahua API clients from PyPI against vto (tests/tests/dahua_api.rs).

Run with the venv's python (.venv-peers, made by .ci/lib.sh
ensure_test_tools): python-amcrest 1.9.9 and aiodahua 0.5.0, each used the
way Home Assistant integrations use them. Prints one JSON object per line;
the test reads and checks them.

    dahua_clients.py CLIENT ACTION HOST PORT USER PASSWORD [N]

CLIENT: amcrest | aiodahua. ACTION: identity | snapshot | open | events N
(the first N events, then exit).
"""

import asyncio
import json
import sys


def out(obj):
    print(json.dumps(obj), flush=True)


def amcrest(action, host, port, user, password, n):
    from amcrest import AmcrestCamera
    from amcrest.exceptions import AmcrestError

    cam = AmcrestCamera(host, port, user, password, retries_connection=1).camera
    try:
        if action == "identity":
            version, build = cam.software_information
            out(
                {
                    "serial": cam.serial_number,
                    "device_type": cam.device_type,
                    "version": version,
                    "build": build,
                    "machine_name": cam.machine_name,
                    "vendor": cam.vendor_information,
                    "system_info": cam.system_information,
                }
            )
        elif action == "snapshot":
            jpeg = cam.snapshot(channel=1, stream=False)
            out({"len": len(jpeg), "head": jpeg[:3].hex(), "tail": jpeg[-2:].hex()})
        elif action == "events":
            out({"attaching": True})
            for i, (code, payload) in enumerate(cam.event_actions("All")):
                out({"code": code, "payload": payload})
                if i + 1 >= n:
                    break
        else:
            raise SystemExit(f"unknown action {action}")
    except AmcrestError as e:
        out({"error": type(e).__name__, "message": str(e)})


async def aiodahua(action, host, port, user, password, n):
    from aiodahua import DahuaClient
    from aiodahua.exceptions import DahuaError

    async with DahuaClient(host, user, password, port=port, timeout=10) as dev:
        try:
            if action == "identity":
                out(
                    {
                        "device_type": await dev.async_get_device_type(),
                        "serial": await dev.async_get_serial_number(),
                        "version": await dev.async_get_software_version(),
                        "system_info": await dev.async_get_system_info(),
                        "machine_name": await dev.async_get_machine_name(),
                    }
                )
            elif action == "snapshot":
                jpeg = await dev.async_get_snapshot(1)
                out({"len": len(jpeg), "head": jpeg[:3].hex(), "tail": jpeg[-2:].hex()})
            elif action == "open":
                out({"open": await dev.async_access_control_open_door(1)})
            elif action == "events":
                got = []
                done = asyncio.Event()

                def on_receive(data, channel):
                    text = data.decode("ascii", "replace")
                    for part in text.split("--myboundary"):
                        if "Code=" in part:
                            body = part[part.index("Code=") :].strip()
                            out({"part": body})
                            got.append(body)
                    if len(got) >= n:
                        done.set()

                out({"attaching": True})
                task = asyncio.create_task(dev.stream_events(on_receive, ["All"], 1))
                waiter = asyncio.create_task(done.wait())
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                task.cancel()
                waiter.cancel()
                if not done.is_set():
                    out({"error": "stream ended", "got": len(got)})
            else:
                raise SystemExit(f"unknown action {action}")
        except DahuaError as e:
            out({"error": type(e).__name__, "message": str(e)})


def main():
    client, action, host, port, user, password = sys.argv[1:7]
    n = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    if client == "amcrest":
        amcrest(action, host, int(port), user, password, n)
    elif client == "aiodahua":
        asyncio.run(aiodahua(action, host, int(port), user, password, n))
    else:
        raise SystemExit(f"unknown client {client}")


if __name__ == "__main__":
    main()
