"""Documented limits of the control service (also stated in control.proto)."""

from __future__ import annotations

from datetime import timedelta

MAX_CHECKPOINT_PAYLOAD_BYTES = 64 * 1024 * 1024
"""Largest checkpoint payload accepted. The server's `max_message_bytes` must exceed it a little."""

MAX_REMEMBERED_RESPONSE_BYTES = MAX_CHECKPOINT_PAYLOAD_BYTES
"""Largest remembered response (its `responses`, serialized) accepted."""

COMPRESSION_MIN_BYTES = 4096
"""Payloads smaller than this are stored as given; larger ones are stored zstd-compressed if that pays."""

MAX_CACHE_BATCH = 1000
"""Most keys per LookupCacheEntries and entries per StoreCacheEntries."""

MAX_CACHE_KEY_LENGTH = 256
MAX_CACHE_VALUE_BYTES = 8 * 1024 * 1024

MAX_PAGE_SIZE = 1000
DEFAULT_SESSION_PAGE_SIZE = 50
DEFAULT_CHECKPOINT_PAGE_SIZE = 100
DEFAULT_LEASE_PAGE_SIZE = 100

MIN_LEASE_TTL = timedelta(seconds=1)
MAX_LEASE_TTL = timedelta(hours=1)

MAX_DISPLAY_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 4096
MAX_REASON_LENGTH = 4096
MAX_REQUEST_ID_LENGTH = 128
MAX_HOLDER_LENGTH = 256
MAX_CONTENT_TYPE_LENGTH = 256
MAX_LABELS = 64
MAX_LABEL_VALUE_LENGTH = 256
MAX_ANNOTATIONS = 64
MAX_ANNOTATION_VALUE_LENGTH = 4096

MAX_PANEL_MEMBERS = 1000
"""Most members of a panel, and most agents one AddPanelStudy records."""
MAX_PANEL_BYTES = MAX_CHECKPOINT_PAYLOAD_BYTES
"""Largest panel (its members, serialized) kept."""
DEFAULT_PANEL_PAGE_SIZE = 50
PANEL_UPDATE_ATTEMPTS = 5
"""AddPanelStudy reads, merges and writes a panel; a concurrent change makes it start again this often."""
