#!/usr/bin/python3
"""A real SMTP server for tests (Debian's aiosmtpd) that keeps every mail.

Binds 127.0.0.1 on a free port and prints `listening PORT` once ready.
Each accepted mail is written to DIR/NNNN.eml (written to a temporary
name first, then renamed, so a reader never sees half a mail).

  --starttls CERT KEY   offer STARTTLS and require it before MAIL
  --tls CERT KEY        implicit TLS from the first byte (port-465 style)
  --auth USER:PASS      require AUTH PLAIN/LOGIN with these credentials
  --reject CODE         answer every DATA with this code (e.g. 554)
"""
import argparse
import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Keep:
    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = reject
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            return f"{self.reject} Rejected by test server"
        n = next(self.counter)
        tmp = os.path.join(self.directory, f".{n:04}.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.directory, f"{n:04}.eml"))
        return f"250 OK queued as test-{n:04}"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=False)

    return check


def context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth")
    p.add_argument("--reject")
    a = p.parse_args()
    handler = Keep(a.dir, a.reject)
    kwargs = {}
    if a.starttls:
        kwargs.update(tls_context=context(*a.starttls), require_starttls=True)
    if a.auth:
        user, password = a.auth.split(":", 1)
        kwargs.update(
            authenticator=authenticator(user, password),
            auth_required=True,
            # Plain-text AUTH only when the test asks for no TLS at all.
            auth_require_tls=bool(a.starttls),
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", **kwargs),
        host="127.0.0.1",
        port=0,
        ssl=context(*a.tls) if a.tls else None,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    # Ends when the test closes our stdin (or kills us).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
