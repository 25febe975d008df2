"""The simulator's data store: DM memory as 16-bit words, and the error a
command's area or address raises when a CPU could not serve it."""

import threading

from ..memory_map import DM_WORDS


class AddressError(Exception):
    """An area or address the CPU refuses; `end_code` is its FINS reply."""

    def __init__(self, end_code):
        super().__init__("end code %04X" % end_code)
        self.end_code = end_code


class DmMemory:
    """DM words, thread-safe."""

    def __init__(self, size=DM_WORDS):
        self._words = [0] * size
        self._lock = threading.Lock()
        self.size = size

    def _check(self, address, count):
        if address < 0 or address >= self.size:
            raise AddressError(0x1103)
        if address + count > self.size:
            raise AddressError(0x1104)

    def read(self, address, count):
        with self._lock:
            self._check(address, count)
            return self._words[address : address + count]

    def write(self, address, words):
        words = list(words)
        with self._lock:
            self._check(address, len(words))
            self._words[address : address + len(words)] = words
