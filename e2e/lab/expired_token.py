#!/usr/bin/env python3
"""Build a Negotiate token from a service ticket in a ccache, even an expired one.

Why: the portal must answer an expired Kerberos ticket with a 401 that says so
(reason `expired`), never a 500. No honest client sends one: MIT's initiator
refuses to build an AP-REQ from an expired ticket ("Ticket expired" before any
byte is sent). So this script builds the token itself, the way a client with a
stale ticket and a wrong idea of the time would: it takes the ticket and its
session key from an MIT FILE ccache, ignores the ticket's end time, and writes
an authenticator stamped with the real current time.

Token (RFC 4121 section 4.1 and RFC 4178):
  SPNEGO NegTokenInit (default, as browsers send it), mechTypes = [krb5],
  mechToken = the Kerberos GSS token below; or, with --raw, that token alone:
  [APPLICATION 0] { OID 1.2.840.113554.1.2.2, TOK_ID 01 00, AP-REQ }
  AP-REQ: ap-options none (no mutual authentication is asked for, so the
  acceptor needs no reply round trip), the ticket as it is in the ccache, and
  an Authenticator (ctime/cusec = now, no subkey, no seq-number) encrypted with
  the ticket's session key, key usage 11 (RFC 4120 section 5.5.1), carrying the
  GSS checksum (type 0x8003, RFC 4121 section 4.1.1): Lgth 16, zero channel
  bindings, flags INTEG|CONF (no delegation, hence 24 bytes).

Usage:
  expired_token.py CCACHE [--service SPN] [--raw]
                   [--expect-expired-by S | --expect-valid-for S]
    CCACHE   an MIT FILE ccache path (with or without the FILE: prefix)
    SPN      service principal, default HTTP/portal.example.test@EXAMPLE.TEST
    --expect-expired-by S   refuse (exit 3) unless the ticket ended at least
                            S seconds ago: a test states its premise with it
    --expect-valid-for S    refuse (exit 3) unless the ticket is still valid
                            for at least S seconds (the control case)
  Prints the base64 token (the part after "Negotiate ") on stdout, and the
  ticket's end time relative to now on stderr. Exit 1 with a message on stderr
  if the ccache has no ticket for SPN.

Needs the PyPI package impacket (ticket, ASN.1 and Kerberos crypto). It is
installed into the `python3` found on PATH by `./dev setup` (a pyenv 3.11 on
the dev machines), not into Debian's /usr/bin/python3, which carries Samba's
bindings for lab.sh; so run this script as `python3 e2e/lab/expired_token.py`.
"""
import argparse
import base64
import datetime
import struct
import sys
import time

from impacket.krb5 import constants
from impacket.krb5.asn1 import AP_REQ, Authenticator, seq_set
from impacket.krb5.ccache import CCache
from impacket.krb5.crypto import Key, _enctype_table
from impacket.krb5.types import KerberosTime, Ticket
from pyasn1.codec.der import encoder
from pyasn1.type.univ import noValue

KRB5_OID_DER = bytes.fromhex("06092a864886f712010202")  # 1.2.840.113554.1.2.2
SPNEGO_OID_DER = bytes.fromhex("06062b0601050502")  # 1.3.6.1.5.5.2
TOK_ID_AP_REQ = b"\x01\x00"
GSS_C_CONF_FLAG = 16
GSS_C_INTEG_FLAG = 32
KEY_USAGE_AP_REQ_AUTH = 11


def der(tag, content):
    """One DER element with a definite length."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def find_credential(ccache, spn):
    want = spn.upper()
    for cred in ccache.credentials:
        server = cred["server"].prettyPrint().decode("utf-8").upper()
        if server == want or ("@" not in want and server.split("@")[0] == want):
            return cred
    return None


def krb5_gss_token(cred):
    """The RFC 4121 initial context token for `cred`, authenticator time = now."""
    ticket = Ticket()
    ticket.from_asn1(cred.ticket["data"])
    client = cred["client"].toPrincipal()
    cipher = _enctype_table[cred["key"]["keytype"]]()
    session_key = Key(cipher.enctype, cred["key"]["keyvalue"])

    ap_req = AP_REQ()
    ap_req["pvno"] = 5
    ap_req["msg-type"] = int(constants.ApplicationTagNumbers.AP_REQ.value)
    ap_req["ap-options"] = constants.encodeFlags([])
    seq_set(ap_req, "ticket", ticket.to_asn1)

    auth = Authenticator()
    auth["authenticator-vno"] = 5
    auth["crealm"] = cred["client"].realm["data"].decode("utf-8")
    seq_set(auth, "cname", client.components_to_asn1)
    now = datetime.datetime.now(datetime.timezone.utc)
    auth["cusec"] = now.microsecond
    auth["ctime"] = KerberosTime.to_asn1(now)
    auth["cksum"] = noValue
    auth["cksum"]["cksumtype"] = 0x8003
    # Lgth (LE32) = 16, Bnd = 16 zero bytes (no channel bindings), Flags (LE32).
    auth["cksum"]["checksum"] = struct.pack("<I16sI", 16, b"\0" * 16, GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG)

    sealed = cipher.encrypt(session_key, KEY_USAGE_AP_REQ_AUTH, encoder.encode(auth), None)
    ap_req["authenticator"] = noValue
    ap_req["authenticator"]["etype"] = cipher.enctype
    ap_req["authenticator"]["cipher"] = sealed
    return der(0x60, KRB5_OID_DER + TOK_ID_AP_REQ + encoder.encode(ap_req))


def spnego(mech_token):
    """NegTokenInit offering only krb5, with `mech_token` as the optimistic token."""
    mech_types = der(0xA0, der(0x30, KRB5_OID_DER))
    mech_tok = der(0xA2, der(0x04, mech_token))
    return der(0x60, SPNEGO_OID_DER + der(0xA0, der(0x30, mech_types + mech_tok)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ccache")
    p.add_argument("--service", default="HTTP/portal.example.test@EXAMPLE.TEST")
    p.add_argument("--raw", action="store_true", help="bare RFC 4121 token instead of SPNEGO")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--expect-expired-by", type=float, metavar="S")
    when.add_argument("--expect-valid-for", type=float, metavar="S")
    a = p.parse_args()
    path = a.ccache[5:] if a.ccache.startswith("FILE:") else a.ccache
    cred = find_credential(CCache.loadFile(path), a.service)
    if cred is None:
        sys.exit(f"expired_token.py: no ticket for {a.service} in {path}")
    left = cred["time"]["endtime"] - time.time()
    state = f"ends in {left:.1f} s" if left >= 0 else f"ended {-left:.1f} s ago"
    print(f"expired_token.py: ticket for {a.service} {state}", file=sys.stderr)
    if a.expect_expired_by is not None and -left < a.expect_expired_by:
        print(f"expired_token.py: not expired by {a.expect_expired_by} s yet", file=sys.stderr)
        sys.exit(3)
    if a.expect_valid_for is not None and left < a.expect_valid_for:
        print(f"expired_token.py: not valid for {a.expect_valid_for} s more", file=sys.stderr)
        sys.exit(3)
    token = krb5_gss_token(cred)
    print(base64.b64encode(token if a.raw else spnego(token)).decode("ascii"))


if __name__ == "__main__":
    main()
