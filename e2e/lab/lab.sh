#!/usr/bin/env bash
# Kerberos / Active Directory test lab for the AMT portal.
#
# A real Samba AD DC (KDC + LDAP + PAC + S4U constrained delegation) on
# 127.0.0.2, provisioned in a private directory (LAB_DIR, default <repo>/.lab):
# nothing is written under /etc, /var/lib/samba or /run.  See README.md.
#
#   lab.sh install                  install missing Debian packages (root, idempotent)
#   lab.sh up                       provision if needed, start, populate, write lab.env
#   lab.sh down                     stop the DC (files are kept)
#   lab.sh reset                    down + delete LAB_DIR
#   lab.sh status                   what is provisioned / running / answering
#   lab.sh kinit USER               forwardable TGT for USER into $LAB_DIR/ccache/USER
#   lab.sh chromium-profile DIR     write Chromium's "Local State" for SPNEGO into DIR
#   lab.sh open-chromium USER URL   Chromium signed in by SSO as USER
#   lab.sh browser-check USER       headless Chromium SPNEGO (+ delegation) smoke test
#   lab.sh tickets USER [SPN]       kinit USER, get a ticket for SPN, print ticket sizes
#
# Tunables (environment): LAB_DIR, LAB_DEVICES (8), LAB_CAROL_GROUPS (80),
# LAB_FRANK_GROUPS (400), LAB_INSTALL_CHROMIUM (0; 1 = `install` adds chromium).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
LAB_DIR="${LAB_DIR:-$REPO/.lab}"
LAB_DEVICES="${LAB_DEVICES:-8}"
LAB_CAROL_GROUPS="${LAB_CAROL_GROUPS:-80}"
LAB_FRANK_GROUPS="${LAB_FRANK_GROUPS:-400}"

REALM=EXAMPLE.TEST
DOMAIN=EXAMPLE
DNS_DOMAIN=example.test
BASE_DN="DC=example,DC=test"
DC_HOST=dc1
DC_IP=127.0.0.2
PORTAL_HOST=portal.$DNS_DOMAIN
PORTAL_IP=127.0.0.1
DEVICE_IP_PREFIX=127.1.0.
LAB_PASSWORD='Passw0rd!Lab'          # every lab user (not svc-portal's keytab: it has its own keys)
ADMIN_PASSWORD='Adm1n!Lab-Pass'      # EXAMPLE\Administrator (lab only)
SYS_PY=/usr/bin/python3              # Debian python with samba bindings (not pyenv)

DC="$LAB_DIR/dc"
SMB_CONF="$DC/etc/smb.conf"
PID_FILE="$LAB_DIR/samba.pid"
LOG_DIR="$LAB_DIR/log"
PKI="$LAB_DIR/pki"
KRB5_CONF="$LAB_DIR/krb5.conf"

# ---------------------------------------------------------------- helpers
say()  { printf '[lab] %s\n' "$*"; }
warn() { printf '[lab] WARNING: %s\n' "$*" >&2; }
die()  { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
now()  { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

need_root() { [[ $(id -u) -eq 0 ]] || die "$1 needs root (run with sudo)."; }

need_tools() {
  local missing=()
  for t in samba samba-tool kinit kvno klist ldapsearch openssl; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [[ -x $SYS_PY ]] && "$SYS_PY" -c 'import samba' 2>/dev/null || missing+=("python3-samba")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]}. Run: $0 install"
}

# Samba and the krb5 tools must use the lab's files, never /etc.
lab_env_vars() {
  export KRB5_CONFIG="$KRB5_CONF"
  export WINBINDD_SOCKET_DIR="$DC/run/winbindd"
}

samba_pid() {   # prints the PID if our samba runs, else nothing
  [[ -f $PID_FILE ]] || return 0
  local pid; pid=$(cat "$PID_FILE")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && grep -q samba "/proc/$pid/comm" 2>/dev/null; then
    echo "$pid"
  fi
}

ldap_answers() {
  ldapsearch -x -LLL -o nettimeout=2 -H "ldap://$DC_IP" -s base -b "" defaultNamingContext >/dev/null 2>&1
}

# ---------------------------------------------------------------- install
# samba-ad-provision (provision templates) and samba-dsdb-modules are only
# "Recommends" of samba, and --no-install-recommends would skip them.
PACKAGES=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind python3-samba
  krb5-user ldap-utils libkrb5-dev openssl)

cmd_install() {
  need_root "install"
  local pkgs=("${PACKAGES[@]}") missing=()
  [[ ${LAB_INSTALL_CHROMIUM:-0} == 1 ]] && pkgs+=(chromium)
  for p in "${pkgs[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "all packages already installed: ${pkgs[*]}"
    return 0
  fi
  say "installing missing packages: ${missing[*]}"
  say "apt-get update"
  # Lock::Timeout: wait (up to 10 min) for another apt/dpkg instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -q || die "apt-get update failed: check network access to the Debian mirror."
  # noninteractive: krb5-config would otherwise ask for a default realm.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]} (see output above)."
  say "packages installed."
}

# ---------------------------------------------------------------- PKI
# Small EC (P-256) CA and leaf certificates: fast, with IP SANs (Samba's own
# self-signed certificate is RSA-4096 and has no IP SAN).
make_cert() {  # name subjectCN SAN
  local name=$1 cn=$2 san=$3
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$PKI/$name.key" -subj "/CN=$cn" -out "$PKI/$name.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
    "$san" >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  chmod 600 "$PKI/$name.key"
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

ensure_pki() {
  if [[ -f $PKI/ca.crt && -f $PKI/dc1.crt && -f $PKI/portal.crt && -f $PKI/devices.crt ]]; then
    say "PKI: reusing $PKI"
    return
  fi
  say "PKI: creating EC lab CA and certificates in $PKI"
  mkdir -p "$PKI"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -subj "/CN=AMT Lab CA/O=example.test" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null || die "openssl could not create the CA (is openssl >= 1.1.1 installed?)"
  chmod 600 "$PKI/ca.key"
  make_cert dc1 "$DC_HOST.$DNS_DOMAIN" "DNS:$DC_HOST.$DNS_DOMAIN,IP:$DC_IP"
  make_cert portal "$PORTAL_HOST" "DNS:$PORTAL_HOST,IP:$PORTAL_IP"
  local san="" n
  for ((n = 1; n <= LAB_DEVICES; n++)); do san+="DNS:amt$n.$DNS_DOMAIN,IP:$DEVICE_IP_PREFIX$n,"; done
  make_cert devices "amt.$DNS_DOMAIN" "${san%,}"   # one cert for all simulated devices
}

# ---------------------------------------------------------------- krb5.conf
write_krb5_conf() {
  mkdir -p "$LAB_DIR/ccache"
  cat >"$KRB5_CONF" <<EOF
# Lab Kerberos client configuration (generated by e2e/lab/lab.sh). No DNS:
# the KDC is given by address and host names are never canonicalized.
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    forwardable = true
    udp_preference_limit = 1
    default_ccache_name = FILE:$LAB_DIR/ccache/default

[realms]
    $REALM = {
        kdc = $DC_IP
        admin_server = $DC_IP
        kpasswd_server = $DC_IP
    }

[domain_realm]
    .$DNS_DOMAIN = $REALM
    $DNS_DOMAIN = $REALM
EOF
  say "wrote $KRB5_CONF"
}

# ---------------------------------------------------------------- provision
provision() {
  if [[ -f $DC/.provisioned && -f $SMB_CONF ]]; then
    say "provision: reusing existing domain in $DC"
    return
  fi
  if [[ -e $DC ]]; then
    warn "found an incomplete provision in $DC (earlier failure?); removing it"
    rm -rf "$DC"
  fi
  mkdir -p "$DC/etc" "$DC/run/ncalrpc" "$DC/run/winbindd" "$DC/run/ntp_signd" "$LOG_DIR"
  say "provision: samba-tool domain provision realm=$REALM domain=$DOMAIN host=$DC_HOST ip=$DC_IP dns-backend=NONE"
  local t; t=$(now)
  # --targetdir keeps every file under $DC; the --options keep sockets, pid
  # files and logs there too.  Output goes to a log (it is long).
  if ! samba-tool domain provision --targetdir="$DC" \
        --realm="$REALM" --domain="$DOMAIN" --server-role=dc --dns-backend=NONE \
        --host-name="$DC_HOST" --host-ip="$DC_IP" --adminpass="$ADMIN_PASSWORD" \
        --option="interfaces = $DC_IP/8" --option="bind interfaces only = yes" \
        --option="pid directory = $DC/run" --option="ncalrpc dir = $DC/run/ncalrpc" \
        --option="winbindd socket directory = $DC/run/winbindd" \
        --option="ntp signd socket directory = $DC/run/ntp_signd" \
        --option="log file = $LOG_DIR/samba.log" --option="panic action = " \
        --option="tls certfile = $PKI/dc1.crt" --option="tls keyfile = $PKI/dc1.key" \
        --option="tls cafile = $PKI/ca.crt" \
        >"$LOG_DIR/provision.log" 2>&1; then
    tail -20 "$LOG_DIR/provision.log" >&2
    die "provision failed (full log: $LOG_DIR/provision.log). The lab directory needs a file system with xattrs and POSIX ACLs (ext4, tmpfs; not ramfs). Then: $0 reset && $0 up"
  fi
  # Provision drops some options; add the lab-only ones to [global].
  #  - AES keys by default (else keytabs exported by SPN hold only RC4 keys);
  #  - simple bind on plain LDAP allowed: LAB ONLY, never in production.
  sed -i -e '/^[[:space:]]*server services[[:space:]]*=/d' -e '/^\[global\]/a\
\tkdc default domain supported enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96\
\tldap server require strong auth = no\
\tserver services = ldap cldap kdc' "$SMB_CONF"
  grep -q 'kdc default domain supported enctypes' "$SMB_CONF" || die "could not patch $SMB_CONF"
  touch "$DC/.provisioned"
  TIME_PROVISION=$(since "$t")
  say "provision: done in ${TIME_PROVISION}s"
}

# ---------------------------------------------------------------- start / stop
start_dc() {
  local pid; pid=$(samba_pid)
  if [[ -n $pid ]]; then
    say "samba already running (PID $pid)"
  else
    if ldap_answers; then
      die "something else already answers LDAP on $DC_IP:389 (another lab? 'ss -ltnp | grep $DC_IP'). Stop it first."
    fi
    local t; t=$(now)
    say "starting samba -M single (services: ldap cldap kdc) on $DC_IP; logs in $LOG_DIR"
    # -F: foreground, no daemon; unlike -i it does not exit when stdin closes.
    # setsid: own session, so a Ctrl-C in the calling shell does not kill it.
    setsid samba -F -M single -s "$SMB_CONF" --option='server services = ldap cldap kdc' \
      </dev/null >>"$LOG_DIR/samba.out" 2>&1 &
    echo $! >"$PID_FILE"
    local i
    for ((i = 0; i < 150; i++)); do
      ldap_answers && break
      if [[ -z $(samba_pid) ]]; then
        tail -30 "$LOG_DIR/samba.out" "$LOG_DIR/samba.log" 2>/dev/null >&2 || true
        rm -f "$PID_FILE"
        die "samba exited during start-up (logs above; $LOG_DIR). Is port 88/389 on $DC_IP busy?"
      fi
      sleep 0.1
    done
    ldap_answers || die "samba (PID $(cat "$PID_FILE")) did not answer LDAP within 15 s; see $LOG_DIR/samba.log"
    TIME_START=$(since "$t")
    say "samba PID $(cat "$PID_FILE") answers LDAP after ${TIME_START}s"
  fi
  # The KDC starts together with LDAP in one process; make sure it answers too.
  local i
  for ((i = 0; i < 50; i++)); do
    printf '%s\n' "$ADMIN_PASSWORD" | kinit -c "MEMORY:probe" Administrator >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "the KDC on $DC_IP:88 does not issue tickets; see $LOG_DIR/samba.log"
}

cmd_down() {
  local pid; pid=$(samba_pid)
  if [[ -z $pid ]]; then
    say "samba is not running"
    rm -f "$PID_FILE"
    return 0
  fi
  say "stopping samba (SIGTERM to PID $pid)"
  kill -TERM "$pid"
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "samba PID $pid still alive after 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  say "samba stopped (files kept in $LAB_DIR)"
}

cmd_reset() {
  cmd_down
  case "$LAB_DIR" in
    "" | / | "$HOME" | "$REPO") die "refusing to delete LAB_DIR='$LAB_DIR'" ;;
  esac
  say "deleting $LAB_DIR"
  rm -rf "$LAB_DIR"
}

# ---------------------------------------------------------------- populate
populate() {
  local t; t=$(now)
  say "populating the directory (groups, users, devices, svc-portal, keytabs) via samba Python bindings"
  "$SYS_PY" "$HERE/populate.py" --smbconf "$SMB_CONF" --lab-dir "$LAB_DIR" \
    --password "$LAB_PASSWORD" --devices "$LAB_DEVICES" \
    --carol-groups "$LAB_CAROL_GROUPS" --frank-groups "$LAB_FRANK_GROUPS" \
    || die "populate.py failed (message above). Try '$0 reset && $0 up'."
  TIME_POPULATE=$(since "$t")
  # Both keytabs must hold AES keys (RC4-only means the smb.conf fix is missing).
  # (Capture first: `klist | grep -q` under pipefail fails at random with SIGPIPE.)
  local kt listing
  for kt in portal devices; do
    listing=$(klist -k -e "$LAB_DIR/$kt.keytab") || die "cannot read $LAB_DIR/$kt.keytab"
    [[ $listing == *aes256-cts* ]] \
      || die "$LAB_DIR/$kt.keytab has no AES256 keys; check 'kdc default domain supported enctypes' in $SMB_CONF"
  done
  say "populate: done in ${TIME_POPULATE}s"
}

host_rules() {
  local r="MAP $PORTAL_HOST $PORTAL_IP, MAP $DC_HOST.$DNS_DOMAIN $DC_IP" n
  for ((n = 1; n <= LAB_DEVICES; n++)); do r+=", MAP amt$n.$DNS_DOMAIN $DEVICE_IP_PREFIX$n"; done
  echo "$r"
}

write_env() {
  local f="$LAB_DIR/lab.env"
  {
    echo "# Kerberos/AD lab settings (generated by e2e/lab/lab.sh up). Use: source $f"
    echo "export LAB_DIR='$LAB_DIR'"
    echo "export KRB5_CONFIG='$KRB5_CONF'"
    echo "export LAB_REALM='$REALM'"
    echo "export LAB_DOMAIN='$DOMAIN'"
    echo "export LAB_DNS_DOMAIN='$DNS_DOMAIN'"
    echo "export LAB_BASE_DN='$BASE_DN'"
    echo "export LAB_DC_HOST='$DC_HOST.$DNS_DOMAIN'"
    echo "export LAB_DC_IP='$DC_IP'"
    echo "export LAB_KDC='$DC_IP:88'"
    echo "export LAB_LDAP_URL='ldap://$DC_IP'"
    echo "export LAB_LDAPS_URL='ldaps://$DC_IP'"
    echo "export LAB_CA_FILE='$PKI/ca.crt'"
    echo "export LAB_PORTAL_HOST='$PORTAL_HOST'"
    echo "export LAB_PORTAL_IP='$PORTAL_IP'"
    echo "export LAB_PORTAL_CERT='$PKI/portal.crt'"
    echo "export LAB_PORTAL_KEY='$PKI/portal.key'"
    echo "export LAB_PORTAL_SPN='HTTP/$PORTAL_HOST'"
    echo "export LAB_PORTAL_PRINCIPAL='svc-portal@$REALM'"
    echo "export LAB_PORTAL_KEYTAB='$LAB_DIR/portal.keytab'"
    echo "export LAB_DEVICES_KEYTAB='$LAB_DIR/devices.keytab'"
    echo "export LAB_DEVICE_CERT='$PKI/devices.crt'"
    echo "export LAB_DEVICE_KEY='$PKI/devices.key'"
    echo "export LAB_DEVICE_COUNT='$LAB_DEVICES'"
    echo "export LAB_DEVICE_IP_PREFIX='$DEVICE_IP_PREFIX'"
    echo "export LAB_DEVICE_PORTS='16992 16993 16994 16995'"
    echo "export LAB_PASSWORD='$LAB_PASSWORD'"
    echo "export LAB_ADMIN_USER='Administrator'"
    echo "export LAB_ADMIN_PASSWORD='$ADMIN_PASSWORD'"
    echo "export LAB_CCACHE_DIR='$LAB_DIR/ccache'"
    echo "export LAB_CHROMIUM_HOST_RULES='$(host_rules)'"
    echo "export LAB_SAMBA_PID_FILE='$PID_FILE'"
    [[ -f $LAB_DIR/sids.env ]] && cat "$LAB_DIR/sids.env"
  } >"$f"
  say "wrote $f"
}

# ---------------------------------------------------------------- tickets
# Prints "size" of USER's service ticket for SPN (and of the TGT).
ticket_sizes() {  # USER SPN
  local user=$1 spn=$2 cc
  cc=$(mktemp "$LAB_DIR/ccache/size.XXXXXX")
  printf '%s\n' "$LAB_PASSWORD" | KRB5CCNAME="FILE:$cc" kinit -f "$user" >/dev/null \
    || { rm -f "$cc"; die "kinit $user failed"; }
  KRB5CCNAME="FILE:$cc" kvno -q "$spn" || { rm -f "$cc"; die "kvno $spn as $user failed"; }
  local tgt st
  tgt=$(python3 "$HERE/ccache_tickets.py" "$cc" --service "krbtgt/$REALM")
  st=$(python3 "$HERE/ccache_tickets.py" "$cc" --service "$spn")
  rm -f "$cc"
  echo "$tgt $st"
}

report_ticket_sizes() {
  local spn="HTTP/$PORTAL_HOST" u out
  : >"$LAB_DIR/ticket-sizes.txt"
  say "ticket sizes (DER Ticket length read from the ccache; service $spn):"
  for u in alice carol frank; do
    out=$(ticket_sizes "$u" "$spn")
    read -r tgt st <<<"$out"
    out=$(printf '%-6s TGT %5d bytes   service ticket %5d bytes' "$u" "$tgt" "$st")
    say "  $out"
    echo "$u tgt=$tgt service=$st" >>"$LAB_DIR/ticket-sizes.txt"
  done
}

cmd_tickets() {
  local user=${1:?usage: lab.sh tickets USER [SPN]} spn=${2:-HTTP/$PORTAL_HOST}
  need_tools; lab_env_vars
  [[ -n $(samba_pid) ]] || die "the lab is not running: $0 up"
  local cc; cc=$(mktemp "$LAB_DIR/ccache/tickets.XXXXXX")
  printf '%s\n' "$LAB_PASSWORD" | KRB5CCNAME="FILE:$cc" kinit -f "$user" >/dev/null || die "kinit $user failed"
  KRB5CCNAME="FILE:$cc" kvno "$spn" || die "kvno $spn failed"
  python3 "$HERE/ccache_tickets.py" "$cc"
  rm -f "$cc"
}

# ---------------------------------------------------------------- up
cmd_up() {
  # Fresh machine (CI): install what is missing first (a quick no-op otherwise).
  if [[ $(id -u) -eq 0 ]]; then cmd_install; fi
  need_tools
  local t0; t0=$(now)
  TIME_PROVISION=reused TIME_START=running TIME_POPULATE=
  mkdir -p "$LAB_DIR" "$LOG_DIR"
  ensure_pki
  write_krb5_conf
  lab_env_vars
  provision
  start_dc
  populate
  write_env
  report_ticket_sizes
  local total; total=$(since "$t0")
  {
    echo "provision=$TIME_PROVISION"
    echo "start=$TIME_START"
    echo "populate=$TIME_POPULATE"
    echo "total_up=$total"
  } >"$LAB_DIR/timings.txt"
  echo "$(date -Is) $(tr '\n' ' ' <"$LAB_DIR/timings.txt")" >>"$LAB_DIR/timings.log"   # history
  say "timings (s): provision=$TIME_PROVISION start=$TIME_START populate=$TIME_POPULATE total=$total"
  say ""
  say "Lab is up.  Realm $REALM, DC $DC_HOST.$DNS_DOMAIN at $DC_IP (LDAP 389, LDAPS 636, KDC 88)."
  say "Users alice bob erin dave carol frank sam, password: $LAB_PASSWORD"
  say "Administrator password: $ADMIN_PASSWORD"
  say "Portal: svc-portal, SPN HTTP/$PORTAL_HOST, keytab $LAB_DIR/portal.keytab"
  say "Devices: amt1..amt$LAB_DEVICES, keytab $LAB_DIR/devices.keytab"
  say "Next: source $LAB_DIR/lab.env; $0 kinit alice; $HERE/check.sh"
}

cmd_status() {
  say "LAB_DIR=$LAB_DIR"
  if [[ -f $DC/.provisioned ]]; then say "provisioned: yes ($DC)"; else say "provisioned: no"; fi
  local pid; pid=$(samba_pid)
  if [[ -n $pid ]]; then
    say "samba: running, PID $pid, RSS $(awk '/VmRSS/{print $2, $3}' "/proc/$pid/status")"
  else
    say "samba: not running"
  fi
  if ldap_answers; then say "LDAP on $DC_IP:389: answers"; else say "LDAP on $DC_IP:389: no answer"; fi
  if [[ -f $KRB5_CONF ]]; then
    if printf '%s\n' "$LAB_PASSWORD" | KRB5_CONFIG=$KRB5_CONF kinit -c MEMORY:st dave >/dev/null 2>&1; then
      say "KDC on $DC_IP:88: issues tickets"
    else
      say "KDC on $DC_IP:88: no ticket for dave"
    fi
  fi
  [[ -f $LAB_DIR/lab.env ]] && say "env file: $LAB_DIR/lab.env"
  [[ -f $LAB_DIR/timings.txt ]] && say "last up: $(tr '\n' ' ' <"$LAB_DIR/timings.txt")"
  [[ -n $pid ]]
}

# ---------------------------------------------------------------- kinit
cmd_kinit() {
  local user=${1:?usage: lab.sh kinit USER}
  [[ -f $KRB5_CONF ]] || die "no $KRB5_CONF: run '$0 up' first"
  lab_env_vars
  mkdir -p "$LAB_DIR/ccache"
  local cc="$LAB_DIR/ccache/$user"
  say "kinit -f $user@$REALM -> $cc (password on stdin)"
  printf '%s\n' "$LAB_PASSWORD" | KRB5CCNAME="FILE:$cc" kinit -f "$user@$REALM" >/dev/null \
    || die "kinit for $user failed: is the lab up ('$0 status') and does the user exist?"
  say "to use it:"
  echo "export KRB5_CONFIG='$KRB5_CONF' KRB5CCNAME='FILE:$cc'"
}

# ---------------------------------------------------------------- chromium
CHROMIUM_FLAGS=(--no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  "--auth-server-allowlist=*.$DNS_DOMAIN")

cmd_chromium_profile() {
  local dir=${1:?usage: lab.sh chromium-profile DIR}
  mkdir -p "$dir"
  # Chromium reads these prefs from the user-data dir's "Local State":
  #  - received_http_auth_negotiate_headers: else a fresh profile never loads GSSAPI;
  #  - disable_negotiate_cname_lookup: else the SPN becomes HTTP@127.0.0.1;
  #  - negotiate_delegate_whitelist: the only working way to forward the TGT.
  cat >"$dir/Local State" <<EOF
{"net":{"received_http_auth_negotiate_headers":true},
 "auth":{"disable_negotiate_cname_lookup":true,"negotiate_delegate_whitelist":"*.$DNS_DOMAIN"}}
EOF
  say "wrote $dir/Local State"
  say "Chromium flags (with --user-data-dir=$dir):"
  printf '  %s\n' "${CHROMIUM_FLAGS[@]}"
  printf "  '--host-resolver-rules=%s'\n" "$(host_rules)"
  say "environment: KRB5_CONFIG=$KRB5_CONF KRB5CCNAME=FILE:$LAB_DIR/ccache/USER (from 'lab.sh kinit USER'), private HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME"
}

# Fills CHROMIUM_CMD with a full command line for USER: fresh TGT, private
# HOME/XDG dirs and profile under $LAB_DIR/chromium/USER.
build_chromium_cmd() {  # USER
  local user=$1
  command -v chromium >/dev/null || die "chromium is not installed: LAB_INSTALL_CHROMIUM=1 $0 install"
  cmd_kinit "$user" >/dev/null
  CHROMIUM_HOME="$LAB_DIR/chromium/$user"
  mkdir -p "$CHROMIUM_HOME/home" "$CHROMIUM_HOME/config" "$CHROMIUM_HOME/cache"
  cmd_chromium_profile "$CHROMIUM_HOME/profile" >/dev/null
  CHROMIUM_CMD=(env "HOME=$CHROMIUM_HOME/home" "XDG_CONFIG_HOME=$CHROMIUM_HOME/config"
    "XDG_CACHE_HOME=$CHROMIUM_HOME/cache"
    "KRB5_CONFIG=$KRB5_CONF" "KRB5CCNAME=FILE:$LAB_DIR/ccache/$user"
    chromium "--user-data-dir=$CHROMIUM_HOME/profile" "${CHROMIUM_FLAGS[@]}"
    "--host-resolver-rules=$(host_rules)")
}

cmd_open_chromium() {
  local user=${1:?usage: lab.sh open-chromium USER URL} url=${2:?usage: lab.sh open-chromium USER URL}
  build_chromium_cmd "$user"
  if [[ -n ${DISPLAY:-} ]]; then
    say "launching Chromium as $user on $DISPLAY: $url (log: $CHROMIUM_HOME/chromium.log)"
    nohup "${CHROMIUM_CMD[@]}" "$url" >"$CHROMIUM_HOME/chromium.log" 2>&1 &
    say "Chromium PID $!"
  else
    say "no DISPLAY: command line to open $url signed in as $user (add --headless=new --dump-dom for a headless fetch):"
    printf '%q ' "${CHROMIUM_CMD[@]}" "$url"
    echo
  fi
}

# Headless Chromium as USER against negotiate_probe.py (a 401-Negotiate echo
# server on 127.0.0.1, reached as portal.example.test): proves the profile,
# flags and ccache give SPNEGO with a forwarded TGT, and measures the header.
cmd_browser_check() {
  local user=${1:?usage: lab.sh browser-check USER}
  build_chromium_cmd "$user"
  local portfile="$CHROMIUM_HOME/probe.port" probe_pid port i out
  rm -f "$portfile"
  python3 "$HERE/negotiate_probe.py" "$portfile" 2>"$CHROMIUM_HOME/probe.log" &
  probe_pid=$!
  for ((i = 0; i < 50; i++)); do [[ -s $portfile ]] && break; sleep 0.1; done
  [[ -s $portfile ]] || { kill "$probe_pid" 2>/dev/null; die "negotiate_probe.py did not start (see $CHROMIUM_HOME/probe.log)"; }
  port=$(cat "$portfile")
  say "headless Chromium as $user -> http://$PORTAL_HOST:$port/ (probe PID $probe_pid)"
  out=$(timeout 60 "${CHROMIUM_CMD[@]}" --headless=new --dump-dom "http://$PORTAL_HOST:$port/" 2>"$CHROMIUM_HOME/chromium.log") || true
  kill "$probe_pid" 2>/dev/null || true
  wait "$probe_pid" 2>/dev/null || true
  if [[ $out =~ \{[^}]*header_bytes[^}]*\} ]]; then
    say "Chromium sent Negotiate as $user: ${BASH_REMATCH[0]}" | tee "$CHROMIUM_HOME/last-check.txt"
  else
    die "Chromium sent no Negotiate token as $user (page: ${out:0:200}; log: $CHROMIUM_HOME/chromium.log)"
  fi
}

# ---------------------------------------------------------------- main
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

main() {
  local cmd=${1:-help}
  shift || true
  case "$cmd" in
    install) cmd_install ;;
    up) cmd_up ;;
    down) cmd_down ;;
    reset) cmd_reset ;;
    status) cmd_status ;;
    kinit) cmd_kinit "$@" ;;
    tickets) cmd_tickets "$@" ;;
    chromium-profile) cmd_chromium_profile "$@" ;;
    open-chromium) cmd_open_chromium "$@" ;;
    browser-check) lab_env_vars; cmd_browser_check "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
