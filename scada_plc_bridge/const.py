"""Names and numbers that the models, the task code and the runner share.

It sits below all of them (it imports plclib only), so none of them has to
import another's module for a constant."""

from .plclib.memory_map import PLANT_SILOS

# Material points of the line, in PLC slot order: (tag, PLC id word, label).
SILOS = tuple(
    (tag, silo_id, "Silo %s" % tag[-1].upper() if tag.startswith("silo_") else "LQ%d" % silo_id)
    for tag, silo_id in PLANT_SILOS
)
SILO_TAGS = tuple(tag for tag, _silo_id, _label in SILOS)
KG_DIGITS = (16, 2)
PLC_TEXT_CHARS = 16  # ASCII fields of the slot: 8 words
PLC_BATCH_WORD_MODULO = 32768  # the BATCH word is a 16-bit INT; Odoo keeps the full number

# First key of the PostgreSQL advisory lock that marks "this PLC is being
# polled": held by a runner (session lock) or by a cron's cycle (xact lock).
POLL_LOCK_NAMESPACE = 1397901645  # "SCAD" as an int4
# The PostgreSQL NOTIFY channel that wakes the runners: database triggers
# send "request:<plc id>" (a request row inserted) and "plc:<plc id>" (a
# PLC's configuration changed); a runner that stops sends "released".
RUNNER_CHANNEL = "scada_plc_runner"
# A poll that changes nothing writes the PLC's and its batches' "last read"
# at most this often (idle polls would otherwise commit a write each).
HEARTBEAT_SECONDS = 60

PARAM_PREFIX = "scada_plc_bridge."
# The bus channel on which the runtime tells open boards what changed.
BOARD_CHANNEL = "scada_plc_bridge.board"
# Context key under which the queue may archive a batch; nothing else creates history.
ARCHIVE_CONTEXT_KEY = "scada_archive_batch"
SETTING_DEFAULTS = {
    "health_stale_minutes": 10,
    "health_tolerance_percent": 10,
    "health_push_failed_minutes": 30,
    "max_push_retries": 5,
    "plausibility_deviation_percent": 10,
    "plausibility_deviation_kg": 5,
    "plausibility_weight_percent": 10,
    # kg a silo the recipe does not use may report before the batch is held.
    "plausibility_unplanned_kg": 0,
    # A batch's material accuracy (rules.GRADE): normal up to warning %, warning up to critical %.
    "accuracy_warning_percent": 2,
    "accuracy_critical_percent": 5,
    # kg above which one manual weighing (scale station) is held for review.
    "weighing_max_kg": 50,
    # Days done PLC requests and acknowledged/cleared alarms are kept (autovacuum).
    "retention_days": 90,
}
# Text settings (scada.settings._get_text): the infos a PLC sends when an
# equipment recovers, comma-separated fnmatch patterns; the plant's shifts,
# the local times they start at (rules.shift_starts).
TEXT_SETTING_DEFAULTS = {
    "failure_recovery_patterns": "*_OK,RECOVERED",
    "shift_starts": "06:00,14:00,22:00",
    # A lot-tracked finished product's lot per batch: {mo}, {batch}, {plc}.
    "finished_lot_name": "{mo}-{batch}",
}

# The plant's equipment other than its silos and tanks (those follow the
# PLC's silos: code silo101.., lq114..): (PLC code, name, kind).
PLANT_EQUIPMENT = (
    ("motor_pump_01", "Pump motor 1", "motor"),
    ("motor_pump_02", "Pump motor 2", "motor"),
    ("motor_screw_01", "Screw conveyor motor 1", "motor"),
    ("mixer_01", "Mixer 1", "mixer"),
    ("scale_01", "Scale station 1", "scale"),
    ("scale_02", "Scale station 2", "scale"),
)

REVIEW_SUMMARY = "SCADA: implausible figures, held for review"


def plc_text(text):
    """What fits the PLC's 16-character ASCII fields (and what it reports back)."""
    return (text or "").encode("ascii", "replace").decode("ascii")[:PLC_TEXT_CHARS]


def plc_batch_word(batch_no):
    """The batch number as the PLC's 16-bit BATCH word holds it."""
    return batch_no % PLC_BATCH_WORD_MODULO
