"""The simulated PLC itself: the FINS server with the memory map's slots
and, in plant mode, the batching line's program.  The line takes recipes
from WRITE slots (handshake word 0), marks them taken, runs each batch for
`batch_seconds` while consumption grows, then reports it finished (or
failed) in the matching READ slot."""

import logging
import time

from ..memory_map import (
    DINT,
    HANDSHAKE_OFFSET,
    PLANT_SILOS,
    READ_AREA_BASE,
    REAL,
    SLOT_COUNT,
    UDINT,
    WRITE_AREA_BASE,
    default_read_layout,
    default_write_layout,
    slot_address,
)
from .server import FinsServer

_logger = logging.getLogger(__name__)

PLANT_TICK_SECONDS = 0.05


class PlantSlot:
    """A batch the simulated line is running in one slot."""

    def __init__(self, recipe, started, fails, deviations):
        self.recipe, self.started, self.fails, self.deviations = recipe, started, fails, deviations
        self.done = False


class PlcSimulator(FinsServer):
    """The PLC the tests, the demo and `scada-plc sim` talk to: a plain one
    whose slots a test fills by hand or, with `plant`, the batching line."""

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        protocol="udp",
        plant=False,
        batch_seconds=30.0,
        failure_rate=0.0,
        fail_batch_numbers=(),
        seed=None,
        fault_delay=1.0,
        model="CJ2M-CPU31",
        version="02.01",
    ):
        super().__init__(host, port, protocol, seed, fault_delay, model, version)
        self.plant, self.batch_seconds, self.failure_rate = plant, batch_seconds, failure_rate
        self.fail_batch_numbers = set(fail_batch_numbers)
        self.recipes_taken = 0
        self.takes_by_mo = {}  # mo_id -> recipes taken for it (more than 1: a batch ran twice)
        self.takes_by_batch = {}  # (batch_no, mo_id) -> recipes taken
        self.finished = 0  # batches reported finished
        self.failed = 0  # batches reported failed
        self._plant_slots = {}
        self._scan_changes = {}  # the torn candidates the running scan collects
        self.read_layout, self.write_layout = default_read_layout(), default_write_layout()
        self._32bit_offsets = [
            spec.offset for spec in self.read_layout.fields if spec.data_type in (DINT, UDINT, REAL)
        ]

    def start(self):
        super().start()
        if self.plant:
            self._spawn(self._run_plant)
        return self

    # -- bookkeeping, for system tests --------------------------------------
    def stats(self):
        """What this PLC did so far, as JSON-ready data."""
        with self._stats_lock:
            return {
                "url": self.url,
                "recipes_taken": self.recipes_taken,
                "takes_by_mo": dict(self.takes_by_mo),
                "takes_by_batch": [
                    {"batch_no": batch_no, "mo_id": mo_id, "takes": takes}
                    for (batch_no, mo_id), takes in sorted(self.takes_by_batch.items())
                ],
                "requests_served": self.requests_served,
                "faults_injected": dict(self.faults_injected),
                "finished": self.finished,
                "failed": self.failed,
            }

    # -- slots, for tests and the demo ------------------------------------
    def _slot_base(self, area, slot):
        if area not in ("read", "write"):
            raise ValueError("area is 'read' or 'write'")
        return slot_address(READ_AREA_BASE if area == "read" else WRITE_AREA_BASE, slot)

    def _layout(self, area):
        return self.read_layout if area == "read" else self.write_layout

    def write_slot_values(self, area, slot, values, clear=False):
        """Encode `values` (default map keys) into a slot; other fields keep
        their words, or become 0 with `clear`.  Returns (before, after) words."""
        layout, base = self._layout(area), self._slot_base(area, slot)
        unknown = set(values) - set(layout.by_name)
        if unknown:
            raise ValueError("no such field in the %s map: %s" % (area, ", ".join(sorted(unknown))))
        before = self.memory.read(base, layout.size_words)
        after = [0] * layout.size_words if clear else list(before)
        for name, value in values.items():
            spec = layout.by_name[name]
            after[spec.offset : spec.offset + spec.length] = spec.encode(value)
        self.memory.write(base, after)
        return before, after

    def read_slot_values(self, area, slot):
        layout = self._layout(area)
        return layout.decode(self.memory.read(self._slot_base(area, slot), layout.size_words))

    # -- plant mode ---------------------------------------------------------
    def _run_plant(self):
        while not self._stop.wait(PLANT_TICK_SECONDS):
            try:
                self.plant_tick(time.monotonic())
            except Exception:  # keep the line running whatever a test wrote into memory
                _logger.exception("plant scan failed")

    def plant_tick(self, now):
        """One scan of the simulated line, served no command meanwhile."""
        with self._scan_lock:
            self._scan(now)

    def _scan(self, now):
        self._scan_changes = {}
        for slot in range(1, SLOT_COUNT + 1):
            running = self._plant_slots.get(slot)
            report = self.read_slot_values("read", slot)
            if running is not None and report["mo_id"] != running.recipe["mo_id"]:
                del self._plant_slots[slot]  # memory was cleared under us
                running = None
            recipe = self.read_slot_values("write", slot)
            if recipe["mo_id"] and recipe["status_read_data"] is False and self._read_slot_free(report):
                self._take_recipe(slot, recipe, now)
                running = self._plant_slots[slot]
            if running is not None and not running.done:
                self._advance(slot, running, now)
        self._torn_candidates = self._scan_changes

    @staticmethod
    def _read_slot_free(report):
        """A new recipe may take over READ slot n only once the bridge has
        acknowledged the last batch there (or the slot is blank), so no
        result is overwritten before it was read."""
        return not report["mo_id"] or report["status_read_data"] is True

    def _take_recipe(self, slot, recipe, now):
        taken = self.recipes_taken + 1  # only the plant thread counts takes
        with self._random_lock:
            fails = taken in self.fail_batch_numbers or self._random.random() < self.failure_rate
            deviations = {tag: self._random.uniform(-0.02, 0.02) for tag, _ in PLANT_SILOS}
        self.memory.write(slot_address(WRITE_AREA_BASE, slot) + HANDSHAKE_OFFSET, [1])
        self._plant_slots[slot] = PlantSlot(recipe, now, fails, deviations)
        values = {key: recipe[key] for key in ("batch_no", "mo_id", "bom", "finished_goods", "quantity")}
        for tag, silo_id in PLANT_SILOS:
            values["silo_id_" + tag.replace("silo_", "")] = silo_id
        self._write_read_slot(slot, values)
        # Counted once the READ slot shows the batch, so a reader of the counts finds it there.
        with self._stats_lock:
            self.recipes_taken = taken
            mo_id, batch = recipe["mo_id"], (recipe["batch_no"], recipe["mo_id"])
            self.takes_by_mo[mo_id] = self.takes_by_mo.get(mo_id, 0) + 1
            self.takes_by_batch[batch] = self.takes_by_batch.get(batch, 0) + 1
        _logger.info("slot %d: took recipe %s (batch %s)", slot, recipe["mo_id"], recipe["batch_no"])

    def _advance(self, slot, running, now):
        progress = min(1.0, (now - running.started) / self.batch_seconds) if self.batch_seconds else 1.0
        values = {}
        for tag, _ in PLANT_SILOS:
            planned = running.recipe["consumption_" + tag] or 0
            values["actual_consumption_" + tag] = round(planned * progress * (1 + running.deviations[tag]), 2)
        if running.fails and progress >= 0.5:
            values["status_operation"] = True
            running.done = True
            with self._stats_lock:
                self.failed += 1
            _logger.info("slot %d: batch %s FAILED", slot, running.recipe["mo_id"])
        elif progress >= 1.0:
            values["status_manufacturing"] = True
            values["actual_weight_quantity_finished_goods"] = round(
                sum(values["actual_consumption_" + tag] for tag, _ in PLANT_SILOS), 2
            )
            running.done = True
            with self._stats_lock:
                self.finished += 1
            _logger.info("slot %d: batch %s finished", slot, running.recipe["mo_id"])
        self._write_read_slot(slot, values)

    def _write_read_slot(self, slot, values):
        # A new batch (it brings its mo_id) starts from a blank slot.
        before, after = self.write_slot_values("read", slot, values, clear="mo_id" in values)
        base = self._slot_base("read", slot)
        self._scan_changes.update(
            (base + offset, (before[offset], before[offset + 1]))
            for offset in self._32bit_offsets
            if before[offset] != after[offset]
        )
