#!/usr/bin/env bash
# Smoke check of a running lab (e2e/lab/lab.sh up).  Exit status 0 = all passed.
#
# Every check prints PASS/FAIL and its duration.  Ticket sizes are measured by
# reading the FILE ccache with ccache_tickets.py (length of the DER Ticket, i.e.
# what travels inside an AP-REQ / Negotiate header); klist cannot show sizes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
LAB_DIR="${LAB_DIR:-$REPO/.lab}"
ENV_FILE="$LAB_DIR/lab.env"
[[ -f $ENV_FILE ]] || { echo "[check] ERROR: $ENV_FILE missing: run e2e/lab/lab.sh up first" >&2; exit 1; }
# shellcheck disable=SC1090
source "$ENV_FILE"

WORK=$(mktemp -d "$LAB_DIR/check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
PASSED=0
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%d", (b-a)*1000}'; }

# check NAME COMMAND...: run COMMAND, PASS if exit status 0.
check() {
  local name=$1 t out rc
  shift
  t=$(now)
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  if ((rc == 0)); then
    printf '[check] PASS %-62s %5d ms\n' "$name" "$(ms "$t")"
    PASSED=$((PASSED + 1))
  else
    printf '[check] FAIL %-62s %5d ms\n' "$name" "$(ms "$t")"
    printf '         %s\n' "${out//$'\n'/$'\n'         }"
    FAILED=$((FAILED + 1))
  fi
}

# refused NAME COMMAND...: PASS if COMMAND fails (exit status != 0).  MIT kvno
# prints a "kvno = N" line even when S4U2Proxy is refused, so only the exit
# status is trusted.
refused() {
  local name=$1
  shift
  check "$name" invert "$@"
}
invert() {
  local out
  if out=$("$@" 2>&1); then
    echo "expected a refusal, but it succeeded: $out"
    return 1
  fi
  echo "$out"
}

user_cc() { echo "FILE:$WORK/$1.cc"; }
kinit_user() {  # USER
  printf '%s\n' "$LAB_PASSWORD" | KRB5CCNAME=$(user_cc "$1") kinit -f "$1@$LAB_REALM" >/dev/null
}
kvno_as() {  # USER SPN
  KRB5CCNAME=$(user_cc "$1") kvno "$2"
}
portal_cc="FILE:$WORK/svc-portal.cc"
kinit_portal() { KRB5CCNAME=$portal_cc kinit -k -t "$LAB_PORTAL_KEYTAB" "$LAB_PORTAL_PRINCIPAL"; }
kinit_portal_by_spn() { KRB5CCNAME="FILE:$WORK/spn.cc" kinit -k -t "$LAB_PORTAL_KEYTAB" "$LAB_PORTAL_SPN@$LAB_REALM"; }
s4u_proxy() {  # USER TARGET_SPN : S4U2Self for USER to svc-portal, then S4U2Proxy to TARGET
  KRB5CCNAME=$portal_cc kvno -U "$1" -P "$2"
}
ticket_size() {  # USER SPN -> bytes
  python3 "$HERE/ccache_tickets.py" "$WORK/$1.cc" --service "$2"
}
ticket_bigger_than() {  # USER SPN LIMIT
  local size
  size=$(ticket_size "$1" "$2")
  echo "$1 ticket for $2: $size bytes"
  ((size > $3))
}
has_flag() {  # USER SPN FLAG
  local table line
  table=$(python3 "$HERE/ccache_tickets.py" "$WORK/$1.cc")   # no `| grep -q`: SIGPIPE under pipefail
  line=$(grep -E " $2@" <<<"$table") || { echo "no ticket for $2"; return 1; }
  echo "$line"
  [[ $line == *"$3"* ]]
}
keytab_has() {  # KEYTAB PRINCIPAL
  klist -k -e "$1" | grep -F "$2@$LAB_REALM (aes256-cts-hmac-sha1-96)" >/dev/null
}
ldaps_rootdse() {
  LDAPTLS_CACERT=$LAB_CA_FILE LDAPTLS_REQCERT=demand \
    ldapsearch -x -LLL -H "$LAB_LDAPS_URL" -s base -b "" defaultNamingContext >/dev/null
}
ldap_groups_of() {  # USER -> tokenGroups (needs a base-scope search) is not empty
  local out
  out=$(ldapsearch -x -LLL -H "$LAB_LDAP_URL" -D "$LAB_ADMIN_USER@$LAB_DNS_DOMAIN" -w "$LAB_ADMIN_PASSWORD" \
    -s base -b "CN=$1,CN=Users,$LAB_BASE_DN" tokenGroups)
  echo "$out" | grep -c "^tokenGroups"
}

DEV1="HTTP/amt1.$LAB_DNS_DOMAIN:16992"
LAST_DEV="HTTP/amt$LAB_DEVICE_COUNT.$LAB_DNS_DOMAIN:16995"
NOT_LISTED="host/$LAB_DC_HOST"   # exists in AD, not in svc-portal's msDS-AllowedToDelegateTo

echo "[check] lab $LAB_DIR, realm $LAB_REALM, KDC $LAB_KDC"
if [[ -f $LAB_DIR/timings.txt ]]; then
  echo "[check] last 'lab.sh up' timings (s): $(tr '\n' ' ' <"$LAB_DIR/timings.txt")"
fi

check "LDAPS on $LAB_DC_IP verifies with the lab CA (IP SAN)"      ldaps_rootdse
check "kinit -f alice (password)"                                  kinit_user alice
check "alice: kvno $LAB_PORTAL_SPN"                                kvno_as alice "$LAB_PORTAL_SPN"
check "alice: portal ticket has ok-as-delegate"                    has_flag alice "$LAB_PORTAL_SPN" ok-as-delegate
check "alice: TGT is forwardable"                                  has_flag alice "krbtgt/$LAB_REALM" forwardable
check "alice: kvno $DEV1"                                          kvno_as alice "$DEV1"
check "alice: kvno $LAST_DEV"                                      kvno_as alice "$LAST_DEV"
check "portal.keytab has AES256 for $LAB_PORTAL_SPN"               keytab_has "$LAB_PORTAL_KEYTAB" "$LAB_PORTAL_SPN"
check "devices.keytab has AES256 for $LAST_DEV"                    keytab_has "$LAB_DEVICES_KEYTAB" "$LAST_DEV"
check "kinit svc-portal from portal.keytab"                        kinit_portal
check "kinit $LAB_PORTAL_SPN from portal.keytab (UPN = SPN)"       kinit_portal_by_spn
check "S4U2Self+S4U2Proxy alice -> $DEV1"                          s4u_proxy alice "$DEV1"
check "S4U2Self+S4U2Proxy alice -> $LAST_DEV"                      s4u_proxy alice "$LAST_DEV"
refused "S4U2Proxy alice -> $NOT_LISTED refused (not listed)"      s4u_proxy alice "$NOT_LISTED"
refused "S4U2Proxy sam -> $DEV1 refused (sensitive account)"       s4u_proxy sam "$DEV1"
check "kinit -f carol, kvno portal"                                eval 'kinit_user carol && kvno_as carol "$LAB_PORTAL_SPN"'
check "kinit -f frank, kvno portal"                                eval 'kinit_user frank && kvno_as frank "$LAB_PORTAL_SPN"'
check "frank's portal ticket > 4096 bytes"                         ticket_bigger_than frank "$LAB_PORTAL_SPN" 4096
check "alice's tokenGroups readable over LDAP (base scope)"        ldap_groups_of alice

# USER: headless Chromium SPNEGO against negotiate_probe.py.  The probe cannot
# decrypt the token, so delegation is inferred from its size: a token larger
# than service ticket + TGT can only carry the forwarded TGT (KRB-CRED).
browser() {
  local out tok st tgt
  out=$("$HERE/lab.sh" browser-check "$1") || { echo "$out"; return 1; }
  echo "$out"
  [[ $out =~ \"token_bytes\":\ ([0-9]+) ]] || return 1
  tok=${BASH_REMATCH[1]}
  st=$(ticket_size "$1" "$LAB_PORTAL_SPN")
  tgt=$(ticket_size "$1" "krbtgt/$LAB_REALM")
  echo "token $tok bytes vs service ticket $st + TGT $tgt"
  ((tok > st + tgt))
}
if command -v chromium >/dev/null 2>&1 && [[ ${LAB_SKIP_BROWSER:-0} != 1 ]]; then
  check "Chromium SPNEGO as alice, token carries forwarded TGT (size)" browser alice
  check "Chromium SPNEGO as frank, token carries forwarded TGT (size)" browser frank
  grep -h "Chromium sent" "$LAB_DIR"/chromium/{alice,frank}/last-check.txt 2>/dev/null | sed 's/^\[lab\]/[check]  /' || true
else
  echo "[check] SKIP Chromium checks (chromium not installed or LAB_SKIP_BROWSER=1)"
fi

echo "[check] ticket sizes for $LAB_PORTAL_SPN (DER Ticket bytes from the ccache):"
for u in alice carol frank; do
  if [[ -f $WORK/$u.cc ]]; then
    printf '[check]   %-6s TGT %5s   service ticket %5s\n' "$u" \
      "$(ticket_size "$u" "krbtgt/$LAB_REALM" || echo '?')" "$(ticket_size "$u" "$LAB_PORTAL_SPN" || echo '?')"
  fi
done

echo "[check] $PASSED passed, $FAILED failed"
((FAILED == 0))
