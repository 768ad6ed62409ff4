#!/usr/bin/python3
"""Create (idempotently) the lab's Active Directory population and keytabs.

Run by `lab.sh up` with Debian's /usr/bin/python3 (it has samba's Python
bindings; a pyenv python3 does not).  It opens the DC's sam.ldb directly as
the system user (like `samba-tool -H sam.ldb`), which is much faster than
hundreds of samba-tool or LDAP calls: one process, one transaction.

Idempotence: every object is looked up first.  Missing objects are created;
existing ones have their lab-relevant attributes (group members, SPNs,
delegation list, userAccountControl) brought back to the wanted state.
Passwords of existing accounts are NOT reset (so keys and kvno stay stable).
Keytabs are always re-exported (to a temporary file, then renamed).

Outputs in LAB_DIR:
  portal.keytab   svc-portal's keys under HTTP/portal.example.test and svc-portal
  devices.keytab  keys of every HTTP/amtN.example.test:1699x SPN
  accounts.tsv    kind, name, SID, DN, notes (for tests that need SIDs)
  sids.env        shell exports LAB_DOMAIN_SID, LAB_SID_<NAME>=..., LAB_KEYTEST_FQDN and
                  LAB_KEYTEST_PASSWORD (the amtkey$ computer account's fixed password)
"""
import argparse
import base64
import os
import secrets
import sys
import time

import ldb
from samba import dsdb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

UF_ACCOUNTDISABLE = 0x2
UF_NORMAL_ACCOUNT = 0x200
UF_WORKSTATION_TRUST_ACCOUNT = 0x1000
UF_DONT_EXPIRE_PASSWD = 0x10000
UF_TRUSTED_FOR_DELEGATION = 0x80000          # unconstrained: tickets carry ok-as-delegate
UF_NOT_DELEGATED = 0x100000                  # "account is sensitive and cannot be delegated"
UF_TRUSTED_TO_AUTH_FOR_DELEGATION = 0x1000000  # protocol transition (S4U2Self forwardable)

DEVICE_PORTS = (16992, 16993, 16994, 16995)
COMPUTER_CLASS_GUID = "bf967a86-0de6-11d0-a285-00aa003049e2"  # schemaIDGUID of class computer
AMT_GROUPS = ("AMT Admins", "AMT Helpdesk", "AMT Viewers", "AMT Approvers")


def log(msg):
    print("[populate] " + msg, flush=True)


def die(msg):
    print("[populate] ERROR: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def unicode_pwd(password):
    return ('"%s"' % password).encode("utf-16-le")


class Lab:
    def __init__(self, args):
        self.args = args
        self.lp = LoadParm()
        self.lp.load(args.smbconf)
        sam = os.path.join(self.lp.get("private dir"), "sam.ldb")
        self.db = SamDB(url=sam, session_info=system_session(), lp=self.lp)
        self.base = str(self.db.domain_dn())
        self.dns = self.db.domain_dns_name()
        self.realm = self.dns.upper()
        self.created = 0
        self.updated = 0

    # ---- generic helpers -------------------------------------------------
    def find(self, sam_account_name, attrs):
        res = self.db.search(base=self.base, scope=ldb.SCOPE_SUBTREE,
                             expression="(sAMAccountName=%s)" % ldb.binary_encode(sam_account_name),
                             attrs=attrs)
        return res[0] if len(res) else None

    def sid_of(self, sam_account_name):
        msg = self.find(sam_account_name, ["objectSid"])
        return str(ndr_unpack(security.dom_sid, msg["objectSid"][0]))

    def replace(self, dn, attr, values):
        m = ldb.Message()
        m.dn = ldb.Dn(self.db, str(dn))
        m[attr] = ldb.MessageElement([str(v) for v in values], ldb.FLAG_MOD_REPLACE, attr)
        self.db.modify(m)
        self.updated += 1

    def converge(self, msg, attr, wanted):
        """Replace attr on an existing object if its values differ (case-insensitive)."""
        have = sorted(str(v).lower() for v in msg.get(attr, []))
        if have != sorted(str(v).lower() for v in wanted):
            self.replace(msg.dn, attr, wanted)

    def ensure_dc_ldap_spn(self):
        """Give the DC its ldap/<fqdn> SPN, as Windows DCs have: the portal binds with SASL GSSAPI."""
        msg = self.find("DC1$", ["servicePrincipalName", "dNSHostName"])
        if msg is None:
            die("the DC account DC1$ is missing")
        fqdn = str(msg["dNSHostName"][0])
        have = [str(v) for v in msg.get("servicePrincipalName", [])]
        want = "ldap/" + fqdn
        if want.lower() not in (h.lower() for h in have):
            self.replace(msg.dn, "servicePrincipalName", have + [want, "ldap/" + fqdn + "/" + fqdn.split(".", 1)[1]])

    def ensure_ou(self, name):
        dn = "OU=%s,%s" % (name, self.base)
        res = self.db.search(base=self.base, scope=ldb.SCOPE_ONELEVEL,
                             expression="(&(objectClass=organizationalUnit)(ou=%s))" % ldb.binary_encode(name),
                             attrs=[])
        if not len(res):
            self.db.add({"dn": dn, "objectClass": "organizationalUnit"})
            self.created += 1
        return dn

    def delegate_computer_objects(self, ou_dn, trustee):
        """Delegate on ou_dn what the deployment guide asks for the provisioning account: create
        and delete computer objects (on the OU), full control of descendant computer objects."""
        from samba.sd_utils import SDUtils
        sid = self.sid_of(trustee)
        aces = ["(OA;;CCDC;%s;;%s)" % (COMPUTER_CLASS_GUID, sid),
                "(OA;CIIO;GA;;%s;%s)" % (COMPUTER_CLASS_GUID, sid)]
        utils = SDUtils(self.db)
        have = utils.get_sd_as_sddl(ou_dn).lower()
        missing = [a for a in aces if a.lower() not in have]
        if missing:
            utils.dacl_append_aces(ou_dn, "".join(missing))
            self.updated += 1

    # ---- accounts ----------------------------------------------------------
    def ensure_user(self, name, password, uac_extra=0, spns=(), delegate_to=(), upn=None):
        uac = UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD | uac_extra
        upn = upn or "%s@%s" % (name, self.dns)
        msg = self.find(name, ["userAccountControl", "servicePrincipalName",
                               "msDS-AllowedToDelegateTo", "userPrincipalName"])
        if msg is None:
            rec = {
                "dn": "CN=%s,CN=Users,%s" % (name, self.base),
                "objectClass": "user",
                "sAMAccountName": name,
                "userPrincipalName": upn,
                "unicodePwd": unicode_pwd(password),
                "userAccountControl": str(uac),
                "msDS-SupportedEncryptionTypes": "24",  # AES128 + AES256 only
            }
            if spns:
                rec["servicePrincipalName"] = list(spns)
            if delegate_to:
                rec["msDS-AllowedToDelegateTo"] = list(delegate_to)
            self.db.add(rec)
            self.created += 1
            return
        # Existing account: converge flags and lists, keep the password.
        self.converge(msg, "userAccountControl", [uac])
        self.converge(msg, "userPrincipalName", [upn])
        if spns:
            self.converge(msg, "servicePrincipalName", spns)
        if delegate_to:
            self.converge(msg, "msDS-AllowedToDelegateTo", delegate_to)

    def ensure_device(self, n, ou_dn):
        name = "amt%d" % n
        host = "%s.%s" % (name, self.dns)
        spns = ["HTTP/%s:%d" % (host, p) for p in DEVICE_PORTS]
        msg = self.find(name + "$", ["servicePrincipalName", "dNSHostName", "userAccountControl"])
        if msg is None:
            # A random password enables the account and gives it AES keys.
            self.db.add({
                "dn": "CN=%s,%s" % (name, ou_dn),
                "objectClass": "computer",
                "sAMAccountName": name + "$",
                "dNSHostName": host,
                "servicePrincipalName": spns,
                "msDS-SupportedEncryptionTypes": "24",
                "unicodePwd": unicode_pwd(secrets.token_urlsafe(24) + "aA1!"),
                "userAccountControl": str(UF_WORKSTATION_TRUST_ACCOUNT),
            })
            self.created += 1
        else:
            self.converge(msg, "servicePrincipalName", spns)
            self.converge(msg, "dNSHostName", [host])
            self.converge(msg, "userAccountControl", [UF_WORKSTATION_TRUST_ACCOUNT])
        return spns

    def ensure_keytest_computer(self, name, password):
        """A computer account in CN=Computers (not the AMT Devices OU) with a fixed, known
        password: tests give a simulated device this password as its AMT key and prove that
        real tickets for its SPNs open with the key the device derives (issue 6).  The
        password is set on every run, so the account's keys always match it."""
        host = "%s.%s" % (name, self.dns)
        spns = ["HTTP/%s:%d" % (host, p) for p in DEVICE_PORTS]
        msg = self.find(name + "$", ["servicePrincipalName", "dNSHostName", "userAccountControl"])
        if msg is None:
            self.db.add({
                "dn": "CN=%s,CN=Computers,%s" % (name, self.base),
                "objectClass": "computer",
                "sAMAccountName": name + "$",
                "dNSHostName": host,
                "servicePrincipalName": spns,
                "msDS-SupportedEncryptionTypes": "24",
                "unicodePwd": unicode_pwd(password),
                "userAccountControl": str(UF_WORKSTATION_TRUST_ACCOUNT),
            })
            self.created += 1
        else:
            self.converge(msg, "servicePrincipalName", spns)
            self.converge(msg, "dNSHostName", [host])
            self.converge(msg, "userAccountControl", [UF_WORKSTATION_TRUST_ACCOUNT])
            m = ldb.Message()
            m.dn = msg.dn
            m["unicodePwd"] = ldb.MessageElement(unicode_pwd(password), ldb.FLAG_MOD_REPLACE, "unicodePwd")
            self.db.modify(m)
            self.updated += 1
        return host

    def ensure_group(self, name, member_names, ou_dn=None):
        member_dns = [str(self.find(m, []).dn) for m in member_names]
        msg = self.find(name, ["member"])
        if msg is None:
            rec = {
                "dn": "CN=%s,%s" % (name, ou_dn or "CN=Users," + self.base),
                "objectClass": "group",
                "sAMAccountName": name,
                # default groupType: global security group -> its RID is in the PAC
            }
            if member_dns:
                rec["member"] = member_dns
            self.db.add(rec)
            self.created += 1
            return
        have = {str(v).lower() for v in msg.get("member", [])}
        missing = [d for d in member_dns if d.lower() not in have]
        if missing:
            m = ldb.Message()
            m.dn = msg.dn
            m["member"] = ldb.MessageElement(missing, ldb.FLAG_MOD_ADD, "member")
            self.db.modify(m)
            self.updated += 1

    # ---- domain policy -------------------------------------------------------
    def relax_password_policy(self):
        m = ldb.Message()
        m.dn = ldb.Dn(self.db, self.base)
        for attr, val in (("pwdProperties", "0"),   # complexity off
                          ("minPwdAge", "0"), ("maxPwdAge", "0"),
                          ("pwdHistoryLength", "0"), ("minPwdLength", "0"),
                          ("lockoutThreshold", "0")):
            m[attr] = ldb.MessageElement(val, ldb.FLAG_MOD_REPLACE, attr)
        self.db.modify(m)


def export_keytab(lp, path, principals):
    """Export keys of the given principals into a fresh keytab (atomic rename)."""
    from samba import enable_net_export_keytab
    enable_net_export_keytab()
    from samba.net import Net
    net = Net(None, lp)
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    # Samba's C code logs "Export one principal to ..." on stderr for every
    # principal: send fd 2 to a scratch file, show it only if the export fails.
    import tempfile
    sys.stderr.flush()
    saved = os.dup(2)
    scratch = tempfile.TemporaryFile()
    os.dup2(scratch.fileno(), 2)
    try:
        for p in principals:
            net.export_keytab(keytab=tmp, principal=p)
    except Exception as e:
        os.dup2(saved, 2)
        scratch.seek(0)
        sys.stderr.write(scratch.read().decode("utf-8", "replace"))
        die("keytab export of %s into %s failed: %s" % (p, path, e))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        scratch.close()
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smbconf", required=True)
    ap.add_argument("--lab-dir", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--devices", type=int, default=8)
    ap.add_argument("--carol-groups", type=int, default=80)
    ap.add_argument("--frank-groups", type=int, default=400)
    ap.add_argument("--keytest-name", default="amtkey")
    ap.add_argument("--keytest-password", default="AmtKey-Lab-2026!")
    args = ap.parse_args()
    if args.devices < 1:
        die("--devices must be >= 1")

    t0 = time.monotonic()
    lab = Lab(args)
    pw = args.password
    extra_groups = max(args.carol_groups, args.frank_groups)

    lab.db.transaction_start()
    try:
        log("relaxing password policy (complexity off, min/max age 0, history 0)")
        lab.relax_password_policy()
        lab.ensure_dc_ldap_spn()

        devices_ou = lab.ensure_ou("AMT Devices")
        groups_ou = lab.ensure_ou("Lab Groups")

        log("ensuring AMT devices amt1..amt%d in OU=AMT Devices" % args.devices)
        device_spns = []
        for n in range(1, args.devices + 1):
            device_spns += lab.ensure_device(n, devices_ou)

        keytest_fqdn = lab.ensure_keytest_computer(args.keytest_name, args.keytest_password)
        log("ensured %s$ in CN=Computers (key test device %s)" % (args.keytest_name, keytest_fqdn))

        log("ensuring users alice bob erin dave carol frank sam svc-portal")
        for u in ("alice", "bob", "erin", "dave", "carol", "frank"):
            lab.ensure_user(u, pw)
        lab.ensure_user("sam", pw, uac_extra=UF_NOT_DELEGATED)
        lab.ensure_user("svc-portal", pw,
                        uac_extra=UF_TRUSTED_FOR_DELEGATION | UF_TRUSTED_TO_AUTH_FOR_DELEGATION,
                        spns=["HTTP/portal.%s" % lab.dns],
                        delegate_to=device_spns,
                        # UPN = the SPN, as `ktpass -princ HTTP/... -mapuser` does on Windows:
                        # lets a GSSAPI initiator get a TGT as HTTP/portal.example.test
                        # (Samba finds AS-REQ clients by sAMAccountName or UPN only).
                        upn="HTTP/portal.%s@%s" % (lab.dns, lab.realm))

        log("ensuring OU=AMT Provisioning, delegated to svc-portal (create/delete computers, full control on them)")
        provision_ou = lab.ensure_ou("AMT Provisioning")
        lab.delegate_computer_objects(provision_ou, "svc-portal")

        log("ensuring AMT groups and memberships")
        members = {
            "AMT Admins": ["alice", "frank"],
            "AMT Approvers": ["alice"],
            "AMT Helpdesk": ["bob", "carol", "sam"],
            "AMT Viewers": ["erin"],
        }
        for g in AMT_GROUPS:
            lab.ensure_group(g, members[g])

        log("ensuring %d extra groups 'Lab Group NNN' (carol: first %d, frank: first %d)"
            % (extra_groups, args.carol_groups, args.frank_groups))
        for i in range(1, extra_groups + 1):
            who = []
            if i <= args.carol_groups:
                who.append("carol")
            if i <= args.frank_groups:
                who.append("frank")
            lab.ensure_group("Lab Group %03d" % i, who, ou_dn=groups_ou)
    except BaseException:
        lab.db.transaction_cancel()
        raise
    lab.db.transaction_commit()
    t1 = time.monotonic()
    log("objects created: %d, updated: %d (%.2f s)" % (lab.created, lab.updated, t1 - t0))

    # ---- keytabs ---------------------------------------------------------
    lab_dir = args.lab_dir
    export_keytab(lab.lp, os.path.join(lab_dir, "portal.keytab"),
                  ["HTTP/portal.%s@%s" % (lab.dns, lab.realm), "svc-portal@%s" % lab.realm])
    export_keytab(lab.lp, os.path.join(lab_dir, "devices.keytab"),
                  ["%s@%s" % (s, lab.realm) for s in device_spns])
    t2 = time.monotonic()
    log("keytabs exported: portal.keytab (2 principals), devices.keytab (%d SPNs) (%.2f s)"
        % (len(device_spns), t2 - t1))

    # ---- SIDs --------------------------------------------------------------
    domain_sid = str(lab.db.get_domain_sid())
    rows = []
    env = ["# generated by e2e/lab/populate.py: SIDs of the lab accounts",
           "export LAB_DOMAIN_SID='%s'" % domain_sid,
           "export LAB_PROVISION_OU='OU=AMT Provisioning,%s'" % lab.base]
    accounts = [("user", u) for u in ("alice", "bob", "erin", "dave", "carol", "frank", "sam", "svc-portal")]
    accounts += [("group", g) for g in AMT_GROUPS]
    accounts += [("device", "amt%d$" % n) for n in range(1, args.devices + 1)]
    for kind, name in accounts:
        msg = lab.find(name, ["objectSid", "userAccountControl"])
        sid = str(ndr_unpack(security.dom_sid, msg["objectSid"][0]))
        uac = int(msg["userAccountControl"][0]) if "userAccountControl" in msg else 0
        rows.append("%s\t%s\t%s\t%s\t0x%x" % (kind, name, sid, msg.dn, uac))
        var = "LAB_SID_" + "".join(c if c.isalnum() else "_" for c in name.rstrip("$").upper())
        env.append("export %s='%s'" % (var, sid))
    with open(os.path.join(lab_dir, "accounts.tsv"), "w") as f:
        f.write("kind\tname\tsid\tdn\tuserAccountControl\n" + "\n".join(rows) + "\n")
    env.append("export LAB_KEYTEST_FQDN='%s'" % keytest_fqdn)
    env.append("export LAB_KEYTEST_PASSWORD='%s'" % args.keytest_password)
    with open(os.path.join(lab_dir, "sids.env"), "w") as f:
        f.write("\n".join(env) + "\n")
    log("domain SID %s; account SIDs in %s/accounts.tsv and sids.env" % (domain_sid, lab_dir))


if __name__ == "__main__":
    main()
