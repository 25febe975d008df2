"""Moving FINS frames over UDP or FINS/TCP.  A transport sends one FINS
frame and hands back the next one received; it knows nothing of SIDs or
commands (the client checks those)."""

import socket
import time

from .exceptions import PlcConnectionError, PlcFrameError
from .fins import frame

UDP_MAX_DATAGRAM = 65535


class UdpTransport:
    protocol = "udp"

    def __init__(self, host, port):
        self.host, self.port = host, port
        self._socket = None
        self.server_node = None  # UDP has no handshake
        self.client_node = None

    def open(self, timeout):
        if self._socket is None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self._socket = socket.socket(family, socket.SOCK_DGRAM)
            # connect() filters datagrams from other peers and reports ICMP
            # "port unreachable" as ConnectionRefusedError.
            self._socket.connect((self.host, self.port))

    def close(self):
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def send(self, data):
        try:
            try:
                self._socket.send(data)
            except ConnectionRefusedError:
                # The ICMP error of an earlier datagram surfaced here instead
                # of in recv; this datagram was not sent yet.
                self._socket.send(data)
        except ConnectionRefusedError:
            pass  # nothing listens: the reply wait ends in a timeout
        except OSError as error:
            raise PlcConnectionError("cannot send to udp://%s:%s: %s" % (self.host, self.port, error))

    def receive(self, deadline):
        """Next datagram, or None when the deadline passes."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._socket.settimeout(remaining)
            try:
                return self._socket.recv(UDP_MAX_DATAGRAM)
            except socket.timeout:
                return None
            except ConnectionRefusedError:
                # ICMP port unreachable from an earlier send: nothing listens
                # there now; keep waiting in case it starts within the timeout.
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
            except OSError as error:
                raise PlcConnectionError("udp://%s:%s: %s" % (self.host, self.port, error))


class TcpTransport:
    protocol = "tcp"

    def __init__(self, host, port, client_node=0):
        self.host, self.port = host, port
        self.requested_client_node = client_node or 0
        self._socket = None
        self._buffer = bytearray()
        self.client_node = None
        self.server_node = None

    def open(self, timeout):
        """Connect and exchange node addresses, both within `timeout`."""
        if self._socket is not None:
            return
        deadline = time.monotonic() + timeout
        try:
            self._socket = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as error:
            raise PlcConnectionError("cannot connect to tcp://%s:%s: %s" % (self.host, self.port, error))
        self._buffer.clear()
        try:
            self._socket.sendall(frame.encode_client_node_request(self.requested_client_node))
            reply = self._read_tcp_frame(deadline)
            if reply is None:
                raise PlcConnectionError("FINS/TCP node address handshake timed out")
            self.client_node, self.server_node = frame.decode_node_addresses(reply)
        except (PlcConnectionError, PlcFrameError):
            self.close()
            raise

    def close(self):
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._buffer.clear()

    def send(self, data):
        try:
            self._socket.sendall(frame.encode_tcp(frame.TCP_FRAME_SEND, data))
        except OSError as error:
            self.close()
            raise PlcConnectionError("tcp://%s:%s: %s" % (self.host, self.port, error))

    def _read_tcp_frame(self, deadline):
        while True:
            try:
                tcp_frame, used = frame.decode_tcp(self._buffer)
            except PlcFrameError:
                # The byte stream is lost; only a new connection can resync it.
                self.close()
                raise
            if tcp_frame is not None:
                del self._buffer[:used]
                return tcp_frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self._socket is None:
                raise PlcConnectionError("tcp://%s:%s: connection closed" % (self.host, self.port))
            self._socket.settimeout(remaining)
            try:
                chunk = self._socket.recv(4096)
            except socket.timeout:
                return None
            except OSError as error:
                self.close()
                raise PlcConnectionError("tcp://%s:%s: %s" % (self.host, self.port, error))
            if not chunk:
                self.close()
                raise PlcConnectionError("tcp://%s:%s closed the connection" % (self.host, self.port))
            self._buffer.extend(chunk)

    def receive(self, deadline):
        while True:
            tcp_frame = self._read_tcp_frame(deadline)
            if tcp_frame is None:
                return None
            if tcp_frame.command == frame.TCP_FRAME_SEND_ERROR or tcp_frame.error_code:
                # The server closes the connection after such a notice.
                self.close()
                raise PlcConnectionError(
                    "FINS/TCP error: %s"
                    % frame.TCP_ERRORS.get(tcp_frame.error_code, "code %08X" % tcp_frame.error_code)
                )
            if tcp_frame.command == frame.TCP_FRAME_SEND:
                return tcp_frame.data


def make_transport(protocol, host, port, client_node=None):
    if protocol == "udp":
        return UdpTransport(host, port)
    if protocol == "tcp":
        return TcpTransport(host, port, client_node)
    raise ValueError("protocol must be 'udp' or 'tcp', not %r" % (protocol,))
