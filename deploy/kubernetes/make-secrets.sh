#!/usr/bin/env bash
# Makes the Secrets a dstar cluster needs and writes them as one Kubernetes YAML file, OUT/secrets.yaml:
#   dstar-worker-keys      worker-0.key .. worker-<N-1>.key   (`dstar keygen`, ECDSA P-256, PKCS#8 PEM)
#   dstar-authorized-keys  authorized_keys                    (the lines `dstar keygen` prints)
#   dstar-server-tls       tls.crt, tls.key                   (the server's certificate, signed by a private CA)
#   dstar-ca               ca.crt                             (what workers check the server against)
# The files stay in OUT too (OUT/keys, OUT/authorized_keys, OUT/tls); the CA's private key (OUT/tls/ca.key) is never
# put in the cluster. Keep OUT private, or delete it once the Secrets are applied.
#
# Usage: deploy/kubernetes/make-secrets.sh --workers N [--namespace NS] [--service NAME] [--san NAME]... OUT
#   --namespace  the namespace the server's Service lives in (default: default), for the certificate's DNS names
#   --service    the server's Service name (default: dstar-ps)
#   --san        an extra DNS name for the server certificate (repeatable), e.g. a name outside the cluster
# Environment: DSTAR, the dstar command (default: `dstar` on PATH, else the image localhost/dstar:latest via podman).
# Needs openssl.
set -euo pipefail

workers=""
namespace=default
service=dstar-ps
sans=()
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers="$2"; shift 2 ;;
    --namespace) namespace="$2"; shift 2 ;;
    --service) service="$2"; shift 2 ;;
    --san) sans+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "make-secrets.sh: unknown option '$1' (expected --workers, --namespace, --service, --san)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "make-secrets.sh: one output directory, got '$out' and '$1'" >&2; exit 2; }; out="$1"; shift ;;
  esac
done
[[ "$workers" =~ ^[1-9][0-9]*$ ]] || { echo "make-secrets.sh: --workers: '$workers' is not a worker count (an integer >= 1)" >&2; exit 2; }
[ -n "$out" ] || { echo "make-secrets.sh: give the output directory (OUT)" >&2; exit 2; }
[ ! -e "$out/secrets.yaml" ] || { echo "make-secrets.sh: $out/secrets.yaml exists; keys are never overwritten (choose a new OUT)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "make-secrets.sh: openssl is not installed (apt-get install openssl)" >&2; exit 2; }

mkdir -p "$out/keys" "$out/tls"
out=$(cd "$out" && pwd)
chmod 700 "$out"

# dstar keygen --id I --out DIR, with the local dstar or inside the image (as root there, so it can write to OUT).
keygen() {
  if [ -n "${DSTAR:-}" ]; then
    $DSTAR keygen --id "$1" --out "$out/keys"
  elif command -v dstar >/dev/null; then
    dstar keygen --id "$1" --out "$out/keys"
  else
    podman run --rm --user 0 -v "$out/keys:/keys" localhost/dstar:latest keygen --id "$1" --out /keys
  fi
}

: >"$out/authorized_keys"
for ((i = 0; i < workers; i++)); do
  keygen "$i" | grep -E "^$i " >>"$out/authorized_keys"
done
[ "$(wc -l <"$out/authorized_keys")" = "$workers" ] || { echo "make-secrets.sh: dstar keygen did not print $workers authorized-keys lines" >&2; exit 1; }

# A private CA and the server certificate for the Service's names (and the StatefulSet pod's own name).
tls="$out/tls"
names=("$service" "$service.$namespace" "$service.$namespace.svc" "$service.$namespace.svc.cluster.local"
       "$service-0.$service" "$service-0.$service.$namespace.svc" "$service-0.$service.$namespace.svc.cluster.local" "${sans[@]}")
san=$(printf 'DNS:%s,' "${names[@]}"); san=${san%,}
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tls/ca.key" 2>/dev/null
openssl req -x509 -new -key "$tls/ca.key" -sha256 -days 825 -subj "/CN=dstar private CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$tls/ca.crt"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tls/tls.key" 2>/dev/null
openssl req -new -key "$tls/tls.key" -subj "/CN=$service" -out "$tls/tls.csr"
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$san" >"$tls/ext.cnf"
openssl x509 -req -in "$tls/tls.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 825 -sha256 \
  -extfile "$tls/ext.cnf" -out "$tls/tls.crt" 2>/dev/null
rm -f "$tls/tls.csr" "$tls/ext.cnf" "$tls/ca.srl"
chmod 600 "$tls/ca.key" "$tls/tls.key"

b64() { base64 -w0 <"$1"; }
{
  echo "# Made by deploy/kubernetes/make-secrets.sh for $workers workers; server names: ${names[*]}"
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "metadata:"
  echo "  name: dstar-worker-keys"
  echo "type: Opaque"
  echo "data:"
  for ((i = 0; i < workers; i++)); do echo "  worker-$i.key: $(b64 "$out/keys/worker-$i.key")"; done
  echo "---"
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "metadata:"
  echo "  name: dstar-authorized-keys"
  echo "type: Opaque"
  echo "data:"
  echo "  authorized_keys: $(b64 "$out/authorized_keys")"
  echo "---"
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "metadata:"
  echo "  name: dstar-server-tls"
  echo "type: kubernetes.io/tls"
  echo "data:"
  echo "  tls.crt: $(b64 "$tls/tls.crt")"
  echo "  tls.key: $(b64 "$tls/tls.key")"
  echo "---"
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "metadata:"
  echo "  name: dstar-ca"
  echo "type: Opaque"
  echo "data:"
  echo "  ca.crt: $(b64 "$tls/ca.crt")"
} >"$out/secrets.yaml"
chmod 600 "$out/secrets.yaml"
echo "wrote $out/secrets.yaml ($workers worker keys; server certificate for ${names[*]})"
