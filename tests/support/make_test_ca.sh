#!/bin/sh
# make_test_ca.sh DIR: a throwaway CA (ca.pem) and a server certificate it signed for
# localhost and 127.0.0.1 (leaf.pem, leaf-key.pem), as a private CA would issue them, and one for
# another name only (other.pem, other-key.pem: api.other.test).
set -eu
mkdir -p "$1" && cd "$1"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -days 2 -subj "/CN=spur test CA" -keyout ca-key.pem -out ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>&1
openssl req $ec -subj /CN=localhost -keyout leaf-key.pem -out leaf.csr 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile leaf.ext -out leaf.pem 2>&1
openssl req $ec -subj /CN=api.other.test -keyout other-key.pem -out other.csr 2>&1
printf 'subjectAltName=DNS:api.other.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > other.ext
openssl x509 -req -in other.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile other.ext -out other.pem 2>&1
