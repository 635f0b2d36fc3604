"""AES-GCM for the personal fields of events (the ``Cipher`` port), from the
``cryptography`` package: 128-bit keys, a fresh random 96-bit nonce per field, kept in
front of its ciphertext."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["AES_GCM", "AesGcm"]


class _Key:
    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes | None:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], aad)
        except (InvalidTag, ValueError):
            return None


class AesGcm:
    def new_key(self) -> bytes:
        return AESGCM.generate_key(bit_length=128)

    def for_key(self, key: bytes) -> _Key:
        return _Key(key)


AES_GCM = AesGcm()
