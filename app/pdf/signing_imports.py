"""pyHanko, imported once for the app (signing, the signature box, app/verify).

pyHanko imports cryptography's DSA classes, which cryptography ≥ 51 deprecates (a warning on
every start, an error under pytest); we never use DSA."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "DSA is deprecated", CryptographyDeprecationWarning)
    from pyhanko.pdf_utils import content, generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.metadata.model import VENDOR
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers, validation
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
    from pyhanko.stamp import BaseStamp, BaseStampStyle
    from pyhanko_certvalidator import ValidationContext

__all__ = [
    "VENDOR",
    "BaseStamp",
    "BaseStampStyle",
    "IncrementalPdfFileWriter",
    "ModificationLevel",
    "PdfFileReader",
    "PdfSignatureStatus",
    "SignatureCoverageLevel",
    "ValidationContext",
    "content",
    "fields",
    "generic",
    "pdf_name",
    "signers",
    "validation",
]
