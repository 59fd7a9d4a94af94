"""``RawResponse``: a parsed result with the HTTP answer it came from (for debugging).

What ``client.with_raw_response.<method>(...)`` returns: ``parsed`` is what the plain
method returns; ``status_code``, ``headers``, ``request_id`` and ``retries`` describe the
final answer, ``http_response`` is that answer (its body already read).
"""

from ._transport import Raw as RawResponse

__all__ = ["RawResponse"]
