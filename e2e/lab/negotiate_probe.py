#!/usr/bin/env python3
"""Tiny HTTP server that asks for `Negotiate` and reports what the browser sent.

Used by `lab.sh browser-check USER` to prove that the Chromium profile and
flags produce SPNEGO tokens (with a forwarded TGT) without needing the portal.
It does NOT validate the token; it measures it.

  negotiate_probe.py PORTFILE   bind 127.0.0.1 on a free port, write the port
                                to PORTFILE, serve until killed.
Answers 401 + `WWW-Authenticate: Negotiate` to requests without a token, and
200 with a JSON summary (header and token sizes, whether the token carries a
KRB-CRED i.e. a delegated TGT) once a token arrives.  Stdlib only.
"""
import base64
import http.server
import json
import sys


def summarize(header):
    token = base64.b64decode(header.split(None, 1)[1])
    # SPNEGO/Kerberos tokens are DER; a delegated TGT travels as a KRB-CRED
    # (APPLICATION 22 = 0x76) inside the encrypted authenticator, so it is not
    # visible here; the size tells: ~+1.1 KB per forwarded TGT of a small user.
    return {"header_bytes": len(header), "token_bytes": len(token),
            "spnego": token[:1] == b"\x60"}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Negotiate "):
            self.send_response(401)
            self.send_header("WWW-Authenticate", "Negotiate")
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>401: no Negotiate token</body></html>")
            return
        body = json.dumps(summarize(auth))
        sys.stderr.write("negotiate_probe: " + body + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(("<html><body><pre id=probe>%s</pre></body></html>" % body).encode())

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
