"""PAdES signatures on approved PDFs (pyHanko), and the development CA of `flask pki init`.

The system signs with one certificate, read from a PKCS#12 file (``PDF_SIGNING_PKCS12``,
passphrase ``PDF_SIGNING_PASSPHRASE``). The signature is visible: a box at the foot of the
last page names who approved the version and when. The signature field's name carries the
report, version and approval it was issued for (:class:`Issue`), so that ``app/verify`` can say
what a file is without a record of every download: the field is covered by the signature.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from app.pdf.fonts import FontFace, RoleFont, missing_characters, subset_face

if TYPE_CHECKING:
    from pyhanko.sign import signers

# pyHanko (app/pdf/signing_imports.py) is imported where a signature is made or a key read, not
# with this module: a pool process that only lays volumes out stays ~12 MB smaller.

log = logging.getLogger(__name__)

# The name under which the signature field records what was issued; see Issue.field_name.
FIELD_PATTERN = re.compile(r"^ReportFlow_R(\d+)_V(\d+)_A(\d+)$")

# Where the box sits: the foot of the last page, centred under the type area, below the page
# number (which is 7 mm under the type area, at the outer side) — A4 in points.
STAMP_BOX = (162, 28, 433, 64)
STAMP_FONT_SIZE = 8


@dataclass(frozen=True)
class Issue:
    """What a signed PDF says it is: an approved version, who approved it, when."""

    report_id: int
    version: int
    approval_id: int
    approver: str
    approved_at: datetime  # local time, as printed

    @property
    def field_name(self) -> str:
        return f"ReportFlow_R{self.report_id}_V{self.version}_A{self.approval_id}"

    @property
    def stamp_text(self) -> str:
        at = self.approved_at
        when = f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"  # as the app writes times
        return (
            f"电子签名　审定人：{self.approver}\n审定时间：{when}\n真伪可在本系统“验证文件”页核验"
        )


def parse_field_name(name: str | None) -> tuple[int, int, int] | None:
    """(report id, version, approval id) from a signature field's name, or None."""
    found = FIELD_PATTERN.match(name or "")
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


@dataclass(frozen=True)
class SigningKey:
    """The system's signer, loaded once per file and passphrase."""

    signer: signers.SimpleSigner
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # issuers from the PKCS#12 file, nearest first

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    @property
    def reserve(self) -> int:
        """Room to reserve for the CMS signature in the file, in hex digits (two a byte)."""
        certificates = (self.certificate, *self.chain)
        der = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in certificates)
        return 2 * (2048 + der)

    @property
    def roots(self) -> tuple[x509.Certificate, ...]:
        """The trust anchors of verification: the top of the chain (a self-signed CA), or the
        certificate itself when the file holds no issuer."""
        return self.chain[-1:] or (self.certificate,)


class SigningKeyError(RuntimeError):
    """The configured PKCS#12 file cannot be read (wrong passphrase, not PKCS#12)."""


_KEYS: dict[tuple[str, int, int, str], SigningKey] = {}
_KEYS_LOCK = threading.Lock()


def load_signing_key(path: Path | str | None, passphrase: str | None) -> SigningKey | None:
    """The signer of ``path`` (a PKCS#12 file), or None when no file is configured or there.
    Cached by path, size, modification time and passphrase: a replaced file is read again."""
    if not path:
        return None
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns, passphrase or "")
    with _KEYS_LOCK:
        if key not in _KEYS:
            _KEYS[key] = _read_pkcs12(path.read_bytes(), passphrase)
        return _KEYS[key]


def _read_pkcs12(data: bytes, passphrase: str | None) -> SigningKey:
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        private_key, certificate, others = pkcs12.load_key_and_certificates(data, secret)
    except ValueError as error:
        raise SigningKeyError(
            f"签名证书文件无法读取（口令错误或不是 PKCS#12 文件）：{error}"
        ) from None
    if private_key is None or certificate is None:
        raise SigningKeyError("签名证书文件中没有私钥或证书。")
    chain = _chain_of(certificate, others)
    from app.pdf.signing_imports import signers

    signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=secret)
    return SigningKey(signer=signer, certificate=certificate, chain=chain)


def _chain_of(
    certificate: x509.Certificate, others: list[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    chain: list[x509.Certificate] = []
    current = certificate
    while current.issuer != current.subject:
        issuer = next((c for c in others if c.subject == current.issuer and c not in chain), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return tuple(chain)


def asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _stamp_face(role: RoleFont, text: str) -> FontFace:
    """The first face of ``role`` that prints every character of ``text`` (else its own)."""
    for face in role.faces:
        if not missing_characters(text, replace(role, face=face, fallbacks=())):
            return face
    return role.face


def sign_pdf(pdf: bytes, issue: Issue, key: SigningKey, stamp_font: RoleFont) -> bytes:
    """``pdf`` with the system's PAdES signature (an incremental update, so a PDF/A input
    stays PDF/A): a visible box on the last page naming the approver and the time."""
    from app.pdf.signature_box import ArchiveWriter, BoxFont, BoxStyle
    from app.pdf.signing_imports import fields, signers

    lines = tuple(issue.stamp_text.splitlines())
    face = _stamp_face(stamp_font, "".join(lines))
    style = BoxStyle(
        lines=lines,
        font=BoxFont(subset_face(face, set("".join(lines)))),
        font_size=STAMP_FONT_SIZE,
        border_width=1,
        background=None,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=issue.field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=f"审定（第{issue.version}版）",
        name=issue.approver,
    )
    writer = ArchiveWriter(BytesIO(pdf))
    spec = fields.SigFieldSpec(sig_field_name=issue.field_name, on_page=-1, box=STAMP_BOX)
    pdf_signer = signers.PdfSigner(meta, signer=key.signer, stamp_style=style, new_field_spec=spec)
    # Reserving room by the certificates' size spares pyHanko a trial signature to measure it:
    # the CMS holds them, the signed attributes (~0.5 KB) and the signature value (≤ 0.5 KB).
    return pdf_signer.sign_pdf(writer, bytes_reserved=key.reserve).getvalue()


def signature_cache_part(issue: Issue | None, key: SigningKey | None) -> str:
    """What the PDF cache key must include for a signed file: a new certificate or another
    approval gives a newly signed file."""
    if issue is None or key is None:
        return ""
    return f"signed:{key.fingerprint}:{issue!r}"


# ---- the development CA (flask pki init) --------------------------------------------------

SIGNING_FILE = "signing.p12"
CA_FILE = "ca.pem"


@dataclass(frozen=True)
class DevelopmentPki:
    folder: Path
    pkcs12: Path
    ca: Path


def make_development_pki(
    folder: Path, *, name: str = "ReportFlow 汇报审核系统", days: int = 3650
) -> DevelopmentPki:
    """A development CA and a signing certificate it issued, in ``folder``: ``ca.pem`` (to
    import where files are checked) and ``signing.p12`` (key, certificate and CA; no
    passphrase — production brings its own file and passphrase, see docs/deployment.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} 开发用根证书"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} 文件签名"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"reportflow-signing", key, certificate, [ca], serialization.NoEncryption()
    )
    target = folder / SIGNING_FILE
    target.write_bytes(p12)
    target.chmod(0o600)
    ca_path = folder / CA_FILE
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return DevelopmentPki(folder=folder, pkcs12=target, ca=ca_path)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def certificate_summary(certificate: x509.Certificate) -> str:
    common = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else certificate.subject.rfc4514_string()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
