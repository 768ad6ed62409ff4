#!/usr/bin/env python3
"""Negotiate sign-in load generator for e2e/bench/negotiate_bench.sh.

Two steps, so that making tokens is never charged to the server under test:

  negotiate_load.py tokens --ccache FILE[,FILE...] --count N [--delegate] --out FILE
      Pre-generates N SPNEGO tokens (one per line, base64) for HTTP@portal.example.test
      with python3-gssapi (Debian package; run with /usr/bin/python3). Every token is a
      new gss_init_sec_context, so a new authenticator (new ctime/cusec and subkey): the
      replay cache sees N distinct tokens. The service ticket is fetched from the KDC once
      per ccache and then cached in it, so no KDC round trip per token... except with
      --delegate, where MIT asks the KDC for a new forwarded TGT for every token
      (what a browser with delegation does too). Tokens are handed out round-robin
      over the ccaches (users). Flags: none (like Chromium, no mutual authentication),
      plus GSS_C_DELEG_FLAG with --delegate.

  negotiate_load.py fire --url URL --tokens FILE --concurrency C --expect STATUS
                         [--pids PID,...] [--label TEXT] [--new-conn]
      Sends one GET per token (each token once) over C keep-alive HTTP/1.1 connections
      (or a new connection per request with --new-conn), and prints one JSON line:
      completed, errors (any other status, or a 303 without Set-Cookie when --expect 303),
      elapsed, sign-ins/s, p50/p90/p99 latency in ms, the CPU (user+system) the server
      processes used (from /proc/PID/stat of the PIDs and all their descendants) per sign-in,
      the client's own CPU per sign-in, and the machine's idle share during the run.

Stdlib only for `fire` (asyncio), so it runs under any python3.
"""
import argparse
import asyncio
import base64
import json
import os
import sys
import time
from urllib.parse import urlsplit

CLK = os.sysconf("SC_CLK_TCK")


def make_tokens(args):
    import gssapi  # python3-gssapi

    name = gssapi.Name(args.service, gssapi.NameType.hostbased_service)
    spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
    flags = gssapi.RequirementFlag.delegate_to_peer if args.delegate else 0
    creds = [
        gssapi.Credentials(usage="initiate", store={"ccache": c if ":" in c else "FILE:" + c})
        for c in args.ccache.split(",")
    ]
    t0 = time.perf_counter()
    sizes = []
    with open(args.out, "w") as out:
        for i in range(args.count):
            ctx = gssapi.SecurityContext(name=name, creds=creds[i % len(creds)], usage="initiate",
                                         mech=spnego, flags=flags)
            tok = ctx.step()
            sizes.append(len(tok))
            out.write(base64.b64encode(tok).decode() + "\n")
    dt = time.perf_counter() - t0
    print(json.dumps({"tokens": args.count, "seconds": round(dt, 2),
                      "tokens_per_s": round(args.count / dt),
                      "token_bytes_min": min(sizes), "token_bytes_max": max(sizes),
                      "header_bytes_max": len("Negotiate ") + (max(sizes) + 2) // 3 * 4}))


def proc_tree(roots):
    """PIDs of roots and all their descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(children.get(p, []))
    return seen


def cpu_ticks(pids):
    """utime+stime of each pid (ticks)."""
    out = {}
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[p] = int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return out


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle+iowait


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    if "content-length" in hdrs:
        n = int(hdrs["content-length"][0])
        if n:
            await reader.readexactly(n)
    elif "chunked" in ",".join(hdrs.get("transfer-encoding", [])).lower():
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    close = "close" in ",".join(hdrs.get("connection", [])).lower()
    return status, hdrs, close


async def fire(args):
    with open(args.tokens) as f:
        tokens = [ln.strip() for ln in f if ln.strip()]
    u = urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    path = u.path or "/"
    host_hdr = args.host_header or u.netloc
    queue = list(reversed(tokens))
    lat, errors, samples = [], [], []

    async def worker():
        reader = writer = None
        while queue:
            tok = queue.pop()
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            req = (f"GET {path} HTTP/1.1\r\nHost: {host_hdr}\r\nUser-Agent: negotiate_load\r\n"
                   f"Authorization: Negotiate {tok}\r\n"
                   + ("Connection: close\r\n" if args.new_conn else "") + "\r\n").encode()
            t = time.perf_counter()
            try:
                writer.write(req)
                status, hdrs, close = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError) as e:
                errors.append(f"io: {e!r}")
                writer.close()
                reader = writer = None
                continue
            lat.append(time.perf_counter() - t)
            ok = status == args.expect and (args.expect != 303 or "set-cookie" in hdrs)
            if not ok:
                errors.append(f"status {status}")
                if len(samples) < 3:
                    samples.append({"status": status, "www-authenticate": hdrs.get("www-authenticate")})
            if close or args.new_conn:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    roots = [int(p) for p in args.pids.split(",")] if args.pids else []
    pids = proc_tree(roots)
    s0 = cpu_ticks(pids)
    m0 = machine_ticks()
    c0 = os.times()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - t0
    c1 = os.times()
    m1 = machine_ticks()
    pids |= proc_tree(roots)
    s1 = cpu_ticks(pids)
    server_ticks = sum(s1[p] - s0.get(p, 0) for p in s1)
    n = len(lat)
    ok = n - sum(1 for e in errors if e.startswith("status"))
    lat.sort()

    def pct(q):
        return round(lat[min(n - 1, int(q * n))] * 1000, 2) if n else None

    res = {
        "label": args.label, "concurrency": args.concurrency, "requests": len(tokens),
        "ok": ok, "errors": len(errors), "elapsed_s": round(elapsed, 3),
        "signins_per_s": round(ok / elapsed, 1),
        "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
        "server_cpu_ms_per_signin": round(server_ticks / CLK * 1000 / max(ok, 1), 3) if roots else None,
        "client_cpu_ms_per_signin": round(((c1.user - c0.user) + (c1.system - c0.system)) * 1000 / max(ok, 1), 3),
        "machine_idle_pct": round(100 * (m1[1] - m0[1]) / max(1, m1[0] - m0[0]), 1),
    }
    if errors:
        res["error_samples"] = sorted(set(errors))[:5]
        res["bad_responses"] = samples
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tokens")
    t.add_argument("--ccache", required=True)
    t.add_argument("--count", type=int, required=True)
    t.add_argument("--delegate", action="store_true")
    t.add_argument("--service", default="HTTP@portal.example.test")
    t.add_argument("--out", required=True)
    f = sub.add_parser("fire")
    f.add_argument("--url", required=True)
    f.add_argument("--tokens", required=True)
    f.add_argument("--concurrency", type=int, default=4)
    f.add_argument("--expect", type=int, required=True)
    f.add_argument("--pids", default="")
    f.add_argument("--label", default="")
    f.add_argument("--host-header", default="")
    f.add_argument("--new-conn", action="store_true")
    args = ap.parse_args()
    if args.cmd == "tokens":
        make_tokens(args)
    else:
        asyncio.run(fire(args))


if __name__ == "__main__":
    sys.exit(main())
