"""Equipment failures from the PLC's failure mailbox (D8000-D8022): the
record of each event (once per content hash), the recovery rule, the
"Resolved" button, and the figures (count, MTBF, MTTR) of the PLC and
equipment screens.  No PLC I/O and no commit here: the cycle reads the
mailbox, calls scada.plant.events in a transaction of its own, and
acknowledges the event after that transaction committed.

Hooks for other modules (scada_plc_bridge_maintenance): `_opened(failure)`
after a failure is recorded open, `_resolved(failures)` after failures end."""

import datetime
import fnmatch
import logging
from collections import defaultdict

import pytz
from odoo import _, api, fields, models

from ..const import PLANT_EQUIPMENT
from ..plclib import memory_map

_logger = logging.getLogger(__name__)


class ScadaTaskFailures(models.AbstractModel):
    _name = "scada.task.failures"
    _description = "SCADA equipment failures"

    # -- recording -----------------------------------------------------------
    @api.model
    def _record(self, plc, event):
        """Record one failure event (plain data: MailboxEvent.as_dict()).
        True when it is recorded (now or before): the mailbox may then be
        acknowledged.  Hostile contents are recorded too, with the raw words,
        the decode errors and an alarm: the mailbox never stays blocked."""
        failures = self.env["scada.equipment.failure"].sudo()
        content_hash = event["content_hash"]
        seen = failures.search_count(
            [
                ("plc_id", "=", plc.id),
                "|",
                ("content_hash", "=", content_hash),
                ("recovery_hash", "=", content_hash),
            ]
        )
        if seen:
            return True
        values = event.get("fields") or {}
        errors = [memory_map.clean_text(error) for error in event.get("errors") or []]
        code = memory_map.clean_text(values.get("equipment_code") or "").strip()
        info = memory_map.clean_text(values.get("info") or "").strip()
        equipment = self._equipment(plc, code)
        date_plc = self._plc_time_to_utc(plc, event.get("timestamp")) if event.get("timestamp") else False
        if not errors and equipment and self._is_recovery(info):
            self._recover(plc, equipment, info, content_hash, date_plc)
            return True
        batch = self._running_batch(plc)
        failure = failures.create(
            {
                "plc_id": plc.id,
                "equipment_id": equipment.id,
                "equipment_code": code,
                "info": info,
                "date_plc": date_plc,
                "date_received": fields.Datetime.now(),
                "batch_id": batch.id,
                "production_id": batch.production_id.id,
                "content_hash": content_hash,
                "raw_words": " ".join("%04X" % word for word in event.get("words") or [])
                if errors
                else False,
                "decode_errors": "\n".join(errors) or False,
            }
        )
        self._raise_alarms(failure, errors)
        self._opened(failure)
        plc._notify_board()
        return True

    @api.model
    def _equipment(self, plc, code):
        if not code:
            return self.env["scada.equipment"]
        return (
            self.env["scada.equipment"]
            .sudo()
            .with_context(active_test=False)
            .search([("plc_id", "=", plc.id), ("code", "=", code)], limit=1)
        )

    @api.model
    def _running_batch(self, plc):
        return (
            self.env["mo.batch"]
            .sudo()
            .search(
                [("plc_id", "=", plc.id), ("state", "=", "running")],
                order="date_plc_write desc, id desc",
                limit=1,
            )
        )

    @api.model
    def _raise_alarms(self, failure, errors):
        alarms = self.env["scada.alarm"]
        where = failure.equipment_id.display_name or failure.equipment_code or _("unknown equipment")
        reason = _("%(equipment)s: %(info)s") % {
            "equipment": where,
            "info": failure.info or _("no information"),
        }
        if errors:
            reason += "\n" + _("Unreadable event, recorded with its raw words: %s") % "; ".join(errors)
        alarms._raise("equipment_failure", failure.plc_id, reason, batch=failure.batch_id or None)
        if not failure.equipment_id:
            alarms._raise(
                "equipment_unknown",
                failure.plc_id,
                _("The PLC reported a failure of %r: no equipment of this PLC has that code.")
                % (failure.equipment_code or ""),
            )

    @api.model
    def _is_recovery(self, info):
        patterns = self.env["scada.settings"]._get_text("failure_recovery_patterns")
        return bool(info) and any(
            fnmatch.fnmatchcase(info.upper(), pattern.strip().upper())
            for pattern in patterns.split(",")
            if pattern.strip()
        )

    @api.model
    def _recover(self, plc, equipment, info, content_hash, date_plc):
        """The PLC reports the equipment works again: its open failures end."""
        failures = (
            self.env["scada.equipment.failure"]
            .sudo()
            .search([("plc_id", "=", plc.id), ("equipment_id", "=", equipment.id), ("state", "=", "open")])
        )
        if not failures:
            _logger.info(
                "[FAILURES] %s: %s reports %s, no failure of it is open", plc.code, equipment.code, info
            )
            return failures
        failures.write({"recovery_hash": content_hash})
        return self._resolve(failures, _("recovered: the PLC reported %s") % info, date_plc, user=False)

    # -- ending a failure ----------------------------------------------------------
    @api.model
    def _resolve(self, failures, how, when=None, user=None):
        """End open failures (the button, the PLC's recovery, a done
        maintenance request); `user` False for the PLC itself."""
        failures = failures.filtered(lambda failure: failure.state == "open")
        if not failures:
            return True
        user = self.env.user if user is None else user
        now = fields.Datetime.now()
        for failure in failures:
            end = when or now
            if failure.date_start and end < failure.date_start:
                end = failure.date_start  # a PLC clock set back: no negative duration
            failure.write(
                {
                    "state": "resolved",
                    "date_resolved": end,
                    "resolved_by_id": user.id if user else False,
                    "resolution": how,
                }
            )
            failure.message_post(body=_("Failure ended: %s.") % how)
        for plc in failures.mapped("plc_id"):
            if (
                not self.env["scada.equipment.failure"]
                .sudo()
                .search_count([("plc_id", "=", plc.id), ("state", "=", "open")])
            ):
                self.env["scada.alarm"]._clear("equipment_failure", plc)
            plc._notify_board()
        self._resolved(failures)
        return True

    # -- hooks ---------------------------------------------------------------
    @api.model
    def _opened(self, failure):
        """A failure was recorded open (the maintenance bridge opens a request)."""
        return None

    @api.model
    def _resolved(self, failures):
        """Failures ended."""
        return None

    # -- time --------------------------------------------------------------
    @api.model
    def _default_tz(self):
        return self.env.user.tz or self.env.company.partner_id.tz or "UTC"

    @api.model
    def _plc_time_to_utc(self, plc, timestamp):
        """The PLC's clock (naive, its local time: text "YYYY-MM-DD HH:MM:SS"
        or a datetime) as Odoo stores it (naive UTC)."""
        if isinstance(timestamp, str):
            timestamp = datetime.datetime.strptime(timestamp[:19], "%Y-%m-%d %H:%M:%S")
        zone = pytz.timezone(plc.tz or "UTC")
        return zone.localize(timestamp, is_dst=False).astimezone(pytz.utc).replace(tzinfo=None)

    @staticmethod
    def _hours(start, end):
        return max(0.0, (end - start).total_seconds() / 3600.0) if start and end else 0.0

    @api.model
    def _duration_text(self, failure):
        """ "27 h 05 min": any length (the old system refused 24 h or more)."""
        hours = (
            failure.duration
            if failure.state == "resolved"
            else self._hours(failure.date_start, fields.Datetime.now())
        )
        minutes = int(round(hours * 60))
        text = _("%(hours)d h %(minutes)02d min") % {"hours": minutes // 60, "minutes": minutes % 60}
        return text if failure.state == "resolved" else _("open for %s") % text

    # -- figures -----------------------------------------------------------
    @api.model
    def _stats(self, failures):
        """(count, MTBF h, MTTR h) of failures sorted by start: MTBF the mean
        time between the starts of two consecutive failures, MTTR the mean
        duration of the resolved ones (0 when there is nothing to average)."""
        starts = [failure.date_start for failure in failures if failure.date_start]
        gaps = [self._hours(first, second) for first, second in zip(starts, starts[1:])]
        repairs = [failure.duration for failure in failures if failure.state == "resolved"]
        return (
            len(failures),
            sum(gaps) / len(gaps) if gaps else 0.0,
            sum(repairs) / len(repairs) if repairs else 0.0,
        )

    @api.model
    def _compute_failure_stats(self, records, field_name):
        """failure_count, failure_mtbf, failure_mttr of PLCs or equipment
        (`field_name`: the failure's path to them, e.g. "plc_id")."""
        by_record = defaultdict(list)
        for failure in self.env["scada.equipment.failure"].search(
            [(field_name, "in", records.ids)], order="date_start, id"
        ):
            by_record[failure.mapped(field_name).id].append(failure)
        for record in records:
            count, mtbf, mttr = self._stats(by_record[record.id])
            record.failure_count, record.failure_mtbf, record.failure_mttr = count, mtbf, mttr

    @api.model
    def _failures_action(self, domain):
        action = self.env["ir.actions.actions"]._for_xml_id("scada_plc_bridge.scada_equipment_failure_action")
        action["domain"] = domain
        return action

    # -- the plant's equipment -------------------------------------------------------
    @api.model
    def _create_plant_equipment(self, plcs=None):
        """PLCs get the plant's equipment they lack (by code): their silos and
        tanks, the motors, the mixer and the scale stations
        (const.PLANT_EQUIPMENT).  Called for new PLCs and by the data file
        after the default line's silos (all PLCs: `plcs` None)."""
        plcs = self.env["scada.plc"].sudo().search([]) if plcs is None else plcs.sudo()
        values = []
        for plc in plcs:
            known = set(plc.with_context(active_test=False).equipment_ids.mapped("code"))
            values += [
                {
                    "plc_id": plc.id,
                    "name": silo.name,
                    "code": silo.code,
                    "kind": "silo" if silo.tag.startswith("silo_") else "tank",
                    "silo_id": silo.id,
                }
                for silo in plc.silo_ids
                if silo.code and silo.code not in known
            ]
            values += [
                {"plc_id": plc.id, "name": name, "code": code, "kind": kind}
                for code, name, kind in PLANT_EQUIPMENT
                if code not in known
            ]
        return self.env["scada.equipment"].sudo().create(values)
