#!/usr/bin/env python3
"""List the tickets in an MIT Kerberos FILE ccache with their real sizes.

Why: `klist` shows no ticket size, yet the size matters to the portal (an
HTTP `Authorization: Negotiate` header carries the whole service ticket, plus
the forwarded TGT when the browser delegates).  Users in many groups get a big
PAC and therefore big tickets.

Method: parse the ccache file format (versions 3 and 4, big endian; see MIT
krb5 doc "ccache_file_format") and report, for each credential, the length of
the DER-encoded Ticket (the `ticket` field: what goes into an AP-REQ).  Cache
configuration entries (X-CACHECONF:) are skipped.

Usage:
  ccache_tickets.py CCACHE                 # table: size, flags, server
  ccache_tickets.py CCACHE --service SPN   # print only the size of SPN's ticket
                                           # (SPN without realm, e.g. krbtgt/EXAMPLE.TEST
                                           #  or HTTP/portal.example.test); exit 1 if absent
Only the standard library is used, so any python3 works.
"""
import struct
import sys

# Ticket flag bits as stored in the ccache (RFC 4120 bit 0 is the MSB).
FLAGS = [
    (0x40000000, "forwardable"), (0x20000000, "forwarded"),
    (0x10000000, "proxiable"), (0x08000000, "proxy"),
    (0x00800000, "renewable"), (0x00400000, "initial"),
    (0x00200000, "pre-authent"), (0x00040000, "ok-as-delegate"),
]


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated ccache")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def counted(self):
        return self.take(self.u32())

    def principal(self):
        self.u32()  # name type
        ncomp = self.u32()
        realm = self.counted().decode("utf-8", "replace")
        comps = [self.counted().decode("utf-8", "replace") for _ in range(ncomp)]
        return "/".join(comps), realm

    def at_end(self):
        return self.pos >= len(self.data)


def read_ccache(path):
    with open(path, "rb") as f:
        r = Reader(f.read())
    version = r.u16()
    if version not in (0x0503, 0x0504):
        raise ValueError("unsupported ccache version 0x%04x (need FILE ccache v3/v4)" % version)
    if version == 0x0504:
        r.take(r.u16())  # header tags (time offset)
    r.principal()  # default client principal
    creds = []
    while not r.at_end():
        client = r.principal()
        server = r.principal()
        r.u16()  # key enctype
        r.counted()  # key value
        r.take(16)  # authtime, starttime, endtime, renew_till
        r.u8()  # is_skey
        flags = r.u32()
        for _ in range(r.u32()):  # addresses
            r.u16()
            r.counted()
        for _ in range(r.u32()):  # authdata
            r.u16()
            r.counted()
        ticket = r.counted()
        r.counted()  # second ticket
        if server[1] == "X-CACHECONF:":
            continue
        names = [n for bit, n in FLAGS if flags & bit]
        creds.append({
            "client": "%s@%s" % client,
            "server": "%s@%s" % server,
            "server_norealm": server[0],
            "size": len(ticket),
            "flags": names,
        })
    return creds


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--service"):
        sys.stderr.write(__doc__)
        return 2
    try:
        creds = read_ccache(argv[1])
    except (OSError, ValueError) as e:
        sys.stderr.write("ccache_tickets: cannot read %s: %s\n" % (argv[1], e))
        return 2
    if len(argv) == 4:
        want = argv[3].lower()
        for c in creds:
            if c["server_norealm"].lower() == want or c["server"].lower() == want:
                print(c["size"])
                return 0
        sys.stderr.write("ccache_tickets: no ticket for %s in %s\n" % (argv[3], argv[1]))
        return 1
    for c in creds:
        print("%6d bytes  %-45s %s" % (c["size"], c["server"], ",".join(c["flags"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
