"""Task 2's record of a PLC's contact: connected or not, its heartbeat, and
the problems of its slots; each change is logged once, raises or clears its
alarm, and is written only when it is news."""

import logging

from odoo import api, fields, models

from ..const import HEARTBEAT_SECONDS

_logger = logging.getLogger(__name__)


class ScadaPlcContact(models.AbstractModel):
    _name = "scada.plc.contact"
    _description = "SCADA PLC contact (Task 2)"

    @api.model
    def _client_options(self, plc):
        """FinsClient's arguments (plain data: the runner builds the client
        outside any transaction)."""
        return {
            "host": plc.host,
            "port": plc.port,
            "protocol": plc.protocol,
            "timeout": plc.timeout,
            "retries": plc.read_retries,
            "plc_node": plc.plc_node,
            "client_node": plc.client_node or None,
        }

    @api.model
    def _record_contact(self, plc, warning=None):
        """Returns True when the PLC's state changed (not only its heartbeat)."""
        now = fields.Datetime.now()
        if plc.state != "connected" or (plc.last_error or False) != (warning or False):
            _logger.info("[TASK 2] %s: connected%s", plc.code, " (%s)" % warning if warning else "")
            self.env["scada.alarm"]._clear("plc_silent", plc)
            if plc.state == "error":  # silent since its last answer: the line's availability loss
                self.env["scada.line.performance"]._record_outage(plc, plc.last_contact, now)
            plc.write({"state": "connected", "last_contact": now, "last_error": warning or False})
            return True
        if plc.last_contact and (now - plc.last_contact).total_seconds() < HEARTBEAT_SECONDS:
            return False  # an idle poll writes nothing
        # The heartbeat: one plain UPDATE, no tracking or chatter machinery;
        # and the line's open failures logged as far as now (Odoo's OEE).
        self.env["scada.line.performance"]._record_open_failures(plc, now)
        self.env.cr.execute("UPDATE scada_plc SET last_contact = %s WHERE id = %s", (now, plc.id))
        plc.invalidate_cache(["last_contact"], plc.ids)
        return False

    @api.model
    def _record_contact_error(self, plc, error):
        """Returns True when this is news (the PLC was answering, or another error)."""
        message = str(error)
        if plc.state == "error" and plc.last_error == message:
            return False
        _logger.warning("[TASK 2] %s: %s", plc.code, message)
        if plc.state != "error":
            self.env["scada.alarm"]._raise("plc_silent", plc, message)
        plc.write({"state": "error", "last_error": message})
        return True

    @api.model
    def _record_slot_problems(self, plc, problems):
        """Returns True when the slots' problems changed."""
        text = "\n".join(problems) or False
        if (plc.slot_problems or False) == text:
            return False
        known = (plc.slot_problems or "").split("\n")
        for problem in problems:
            _logger.warning("[TASK 2] %s: %s", plc.code, problem)
            if problem not in known:
                self.env["scada.alarm"]._raise("slot_problem", plc, problem)
        if not problems:
            _logger.info("[TASK 2] %s: all slots readable again", plc.code)
            self.env["scada.alarm"]._clear("slot_problem", plc)
        plc.write({"slot_problems": text})
        return True
