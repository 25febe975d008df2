"""Events of the PLC's mailboxes (failures D8000-D8022, weighings
D9000-D9013), as the cycle hands them over: plain data
(memory_map.MailboxEvent.as_dict()), dispatched by area to the service
that records them.  Returns whether the event is recorded (now or
before): only then does the cycle acknowledge it to the PLC."""

import logging

from odoo import api, models

from ..plclib import memory_map

_logger = logging.getLogger(__name__)

_WARNED = set()


class ScadaPlantEvents(models.AbstractModel):
    _name = "scada.plant.events"
    _description = "SCADA plant events (PLC mailboxes)"

    RECORDERS = {memory_map.FAILURE: "scada.task.failures", memory_map.WEIGHING: "scada.task.weighings"}

    @api.model
    def _mailboxes(self, plc):
        """(failure, weighing) memory_map.Mailbox of a PLC: the plant's layouts at the PLC's bases."""
        return (
            memory_map.Mailbox(
                memory_map.FAILURE, memory_map.default_failure_layout(), plc.failure_mailbox_base
            ),
            memory_map.Mailbox(
                memory_map.WEIGHING, memory_map.default_weighing_layout(), plc.weighing_mailbox_base
            ),
        )

    @api.model
    def _plan_mailboxes(self, plc):
        """The mailboxes a cycle polls (scada.task.poll's _cycle_plan): those the PLC enables."""
        failure, weighing = self._mailboxes(plc)
        return [
            box
            for box, enabled in ((failure, plc.failure_mailbox), (weighing, plc.weighing_mailbox))
            if enabled
        ]

    @api.model
    def _mailbox_problems(self, plc):
        """Why the PLC's mailbox settings cannot work (empty: they can): a
        mailbox outside DM, or sharing words with the slots or the other."""
        failure, weighing = self._mailboxes(plc)
        geometry = memory_map.SlotGeometry(
            plc._layout("read"),
            plc._layout("write"),
            plc.read_area_base,
            plc.write_area_base,
            plc.slot_stride,
            plc.slot_count,
        )
        return failure.problems(geometry, (weighing,)) + weighing.problems(geometry)

    @api.model
    def _record_mailbox_event(self, plc_id, area, event):
        plc = self.env["scada.plc"].sudo().browse(plc_id).exists()
        if not plc:
            return False
        if event.get("empty"):
            # All words 0 with the flag 0 (a cold start): no event, nothing to record;
            # acknowledged so the PLC may write its first one.
            return True
        recorder = self.RECORDERS.get(area)
        if recorder is None or recorder not in self.env:
            if (plc_id, area) not in _WARNED:
                _WARNED.add((plc_id, area))
                _logger.warning(
                    "[MAILBOX] %s: a %s event waits in the PLC, nothing records it yet: left unacknowledged",
                    plc.code,
                    area,
                )
            return False
        return bool(self.env[recorder]._record(plc, event))
