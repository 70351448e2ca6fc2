"""The format's fixed bytes: versions, lengths and the labels that separate one
use of a key from another (FORMAT.md sections 3, 4 and 13)."""

VERSION = 0x01
VERSION_2 = 0x02
# Versions 1 and 2 with a byte string's bytes as the plaintext (section 5.1).
VERSION_3 = 0x03
VERSION_4 = 0x04
KEY_ID_LEN = 4
NONCE_LEN = 12
TAG_LEN = 16
HEADER_LEN = 1 + KEY_ID_LEN + NONCE_LEN
MIN_LEN = HEADER_LEN + TAG_LEN
KEY_ID_DOMAIN = b"encrypted-fields key id v1\x00"
VERIFYING_KEY_ID_DOMAIN = b"encrypted-fields verifying key id v1\x00"
NONCE_KEY_LABEL = b"encrypted-fields deterministic nonce key v1"
SEAL_KEY_LABEL = b"encrypted-fields record seal key v1"
MAC_DOMAIN = b"encrypted-fields record seal v1"
SIGNATURE_DOMAIN = b"encrypted-fields record signature v1"
