"""The HTTP layer `mockserver serve` runs: uvicorn's httptools protocol, with a bound on the request head.

httptools (llhttp) parses about twice as fast as h11, but buffers a request
head of any size: uvicorn sets no cap for it. The mock promises that nothing
a request sends is held without a bound, so this protocol counts the bytes
that arrive before a request's headers are complete and refuses a head over
`HEAD_BYTES` the way the HTTP layer refuses a malformed request: a plain 400,
connection closed. Within that bound everything reaches the APIs, which
answer their own 414 and 431 in their envelopes; only a request target over
llhttp's own limit (about 64 KiB) gets the parser's plain 400 first.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.pipeline.limits import HEAD_BYTES


class BoundedHttpTools(HttpToolsProtocol):
    _head_bytes = 0
    _in_body = False

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_BYTES:
                message = f"The request head is larger than {HEAD_BYTES} bytes."
                self.logger.warning(message)
                self.send_400_response(message)
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        # the next request on this connection starts a new head
        self._in_body, self._head_bytes = False, 0
        super().on_message_complete()
