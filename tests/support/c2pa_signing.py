"""Content Credentials made at test time: a throw-away certificate chain (root CA -> signer,
ECDSA P-256, made with `cryptography`) and media signed with c2pa-python's Builder.

Nothing here is committed media: every file is generated and signed in the test's folder.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
MIME = {".jpg": "image/jpeg", ".png": "image/png", ".mp4": "video/mp4", ".mov": "video/quicktime"}


@dataclass(frozen=True)
class SigningCA:
    root_pem: bytes
    chain_pem: bytes  # signer certificate, then the root
    key_pem: bytes
    signer_cn: str
    org: str

    def write_root(self, path: Path) -> Path:
        path.write_bytes(self.root_pem)
        return path


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    )


def _key_usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca(org: str = "DFS Test Newsroom", signer_cn: str = "DFS Test Generator") -> SigningCA:
    """A root CA and a C2PA signing certificate (end entity, digitalSignature, emailProtection EKU)."""
    now = datetime.datetime.now(datetime.UTC)
    pem = serialization.Encoding.PEM
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{org} Root CA", org)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_cn, org))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    return SigningCA(
        root_pem=root.public_bytes(pem),
        chain_pem=leaf.public_bytes(pem) + root.public_bytes(pem),
        key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        signer_cn=signer_cn,
        org=org,
    )


def sign_media(
    src: Path,
    dest: Path,
    ca: SigningCA,
    *,
    source_type: str | None = "trainedAlgorithmicMedia",
    tool: str = "DFS Test Diffusion",
    when: str | None = "2026-12-01T10:00:00Z",
    extra_assertions: list[dict[str, Any]] | None = None,
    action: str = "c2pa.created",
    remote_url: str | None = None,
) -> Path:
    """`src` with a C2PA manifest signed by `ca`: one `action` (c2pa.created by default), its
    digital source type `source_type` (an IPTC name; None declares none, which c2pa.created
    does not allow). With `remote_url` the manifest is not embedded: the file only points to it."""
    import c2pa

    created: dict[str, Any] = {"action": action, "softwareAgent": {"name": tool, "version": "2.1"}}
    if source_type:
        created["digitalSourceType"] = IPTC + source_type
    if when:
        created["when"] = when
    manifest = {
        "claim_generator_info": [{"name": "dfs-test-suite", "version": "1.0"}],
        "title": dest.name,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [created]}},
            *(extra_assertions or []),
        ],
    }
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, ca.chain_pem, ca.key_pem, None)
    )
    with c2pa.Builder(manifest) as builder, src.open("rb") as fin, dest.open("w+b") as fout:
        if remote_url:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        builder.sign(signer, MIME[src.suffix], fin, fout)
    return dest


def flip_media_byte(path: Path, dest: Path) -> Path:
    """A copy of `path` with one byte of the image or video data (not the manifest) changed:
    in a JPEG's entropy-coded scan, in an MP4's `mdat`."""
    data = bytearray(path.read_bytes())
    if data[:3] == b"\xff\xd8\xff":
        sos = data.rfind(b"\xff\xda")
        i = sos + (len(data) - sos) // 2
    else:
        i = data.find(b"mdat") + 64
    data[i] ^= 0x55
    dest.write_bytes(bytes(data))
    return dest
