"""The simulated PLC itself: the FINS server with the memory map's slots
and, in plant mode, the batching line's program.  The line takes recipes
from WRITE slots (handshake word 0), marks them taken, runs each batch for
`batch_seconds` while consumption grows, then reports it finished (or
failed) in the matching READ slot.  It also raises equipment failures and
manual weighings (at a rate each, or by hand) into its two mailboxes."""

import datetime
import logging
import time

from ..memory_map import (
    DINT,
    FAILURE,
    HANDSHAKE_OFFSET,
    PLANT_SILOS,
    READ_AREA_BASE,
    REAL,
    SLOT_COUNT,
    TIMESTAMP_FIELDS,
    UDINT,
    WEIGHING,
    WRITE_AREA_BASE,
    default_mailboxes,
    default_read_layout,
    default_write_layout,
    slot_address,
)
from .mailboxes import (
    FAILURE_INFOS,
    MOTOR_FAILURE_INFOS,
    MOTOR_RECOVERY,
    PLANT_EQUIPMENT,
    RECOVERY,
    WEIGHING_PRODUCT_IDS,
    SimMailbox,
    is_motor,
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
        equipment_failure_rate=0.0,
        weighing_rate=0.0,
    ):
        super().__init__(host, port, protocol, seed, fault_delay, model, version)
        # plant mode: equipment failures and manual weighings raised per second
        self.equipment_failure_rate, self.weighing_rate = equipment_failure_rate, weighing_rate
        self.mailboxes = {
            mailbox.area: SimMailbox(mailbox, self.memory, self._stats_lock)
            for mailbox in default_mailboxes()
        }
        self._open_failures = {}  # equipment code -> info of its failure not yet recovered
        self._last_failure_time = None  # the PLC clock of the last failure raised
        self._last_weighing = None
        self._last_scan = None
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
        else:
            self._spawn(self._run_mailboxes)
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
                "mailboxes": {area: mailbox.stats() for area, mailbox in self.mailboxes.items()},
                "events_raised": sum(mailbox.raised for mailbox in self.mailboxes.values()),
                "events_acknowledged": sum(mailbox.acknowledged for mailbox in self.mailboxes.values()),
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

    # -- mailboxes ------------------------------------------------------------
    def raise_equipment_failure(self, equipment=None, info=None, when=None):
        """Queue an equipment-failure event; returns its content hash.
        Without `equipment`/`info`: a failure of a random equipment, or now
        and then the recovery (MOTOR_OK, RECOVERED) of one that failed.
        `when` (naive datetime, the PLC's local time) defaults to the PLC
        clock, one second past the last failure at least."""
        with self._scan_lock:
            if equipment is None:
                equipment, info = self._random_failure(info)
            elif info is None:
                info = FAILURE_INFOS[0]
            if info in (MOTOR_RECOVERY, RECOVERY):
                self._open_failures.pop(equipment, None)
            else:
                self._open_failures[equipment] = info
            if when is None:
                when = datetime.datetime.now().replace(microsecond=0)
                if self._last_failure_time is not None and when <= self._last_failure_time:
                    when = self._last_failure_time + datetime.timedelta(seconds=1)
            self._last_failure_time = when
            values = {"equipment_code": equipment, "info": info}
            values.update({name: getattr(when, name) for name in TIMESTAMP_FIELDS})
            return self.mailboxes[FAILURE].put(values)

    def _random_failure(self, info):
        with self._random_lock:
            if info is None and self._open_failures and self._random.random() < 0.3:
                equipment = self._random.choice(sorted(self._open_failures))
                return equipment, MOTOR_RECOVERY if is_motor(equipment) else RECOVERY
            equipment = self._random.choice(PLANT_EQUIPMENT)
            infos = MOTOR_FAILURE_INFOS if is_motor(equipment) else FAILURE_INFOS
            return equipment, info or self._random.choice(infos)

    def raise_weighing(self, batch_no=None, mo_id=None, product_id=None, kg=None):
        """Queue a manual weighing; returns its content hash, or None when no
        batch runs (without `mo_id`, the batch number and MO of a running
        slot are taken).  Random product (WEIGHING_PRODUCT_IDS) and kg
        (0.20..25.00) unless given; a random one never repeats the last
        weighing's words."""
        with self._scan_lock:
            if mo_id is None:
                running = [slot.recipe for _, slot in sorted(self._plant_slots.items()) if not slot.done]
                if not running:
                    return None
                with self._random_lock:
                    recipe = self._random.choice(running)
                batch_no, mo_id = recipe["batch_no"], recipe["mo_id"]
            with self._random_lock:
                if product_id is None:
                    product_id = self._random.choice(WEIGHING_PRODUCT_IDS)
                random_kg = kg is None
                if random_kg:
                    kg = round(self._random.uniform(0.2, 25.0), 2)
            values = {"batch_no": batch_no or 0, "mo_id": mo_id, "product_id": product_id, "quantity": kg}
            if random_kg and values == self._last_weighing:
                values["quantity"] = round(kg + 0.01, 2)
            self._last_weighing = values
            return self.mailboxes[WEIGHING].put(values)

    def deliver_mailboxes(self):
        """Count acknowledged events (flag 1) and write the next queued one
        into each free mailbox: done by every plant scan (and every 50 ms
        in plain mode)."""
        with self._scan_lock:
            for mailbox in self.mailboxes.values():
                mailbox.scan()

    def _run_mailboxes(self):
        while not self._stop.wait(PLANT_TICK_SECONDS):
            try:
                self.deliver_mailboxes()
            except Exception:  # keep serving whatever a test wrote into memory
                _logger.exception("mailbox scan failed")

    def _raise_random_events(self, now):
        elapsed = PLANT_TICK_SECONDS if self._last_scan is None else max(0.0, now - self._last_scan)
        self._last_scan = now
        with self._random_lock:
            failure = self._random.random() < self.equipment_failure_rate * elapsed
            weighing = self._random.random() < self.weighing_rate * elapsed
        if failure:
            self.raise_equipment_failure()
        if weighing:
            self.raise_weighing()

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
        self._raise_random_events(now)
        self.deliver_mailboxes()

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
