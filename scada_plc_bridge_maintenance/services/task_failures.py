"""Equipment failures into Maintenance: a failure recorded open opens a
corrective maintenance.request on the equipment's maintenance.equipment
(created when missing), when the PLC is set to; the request moved to a
done stage ends the failure."""

from odoo import _, api, fields, models


class ScadaTaskFailures(models.AbstractModel):
    _inherit = "scada.task.failures"

    @api.model
    def _opened(self, failure):
        result = super()._opened(failure)
        if failure.plc_id.open_maintenance_requests and not failure.maintenance_request_id:
            failure.sudo().maintenance_request_id = self._open_request(failure)
        return result

    @api.model
    def _open_request(self, failure):
        equipment = self._maintenance_equipment(failure.equipment_id)
        lines = [
            _("Reported by PLC %(plc)s: %(equipment)s %(info)s")
            % {
                "plc": failure.plc_id.display_name,
                "equipment": failure.equipment_id.display_name or failure.equipment_code or "?",
                "info": failure.info or "",
            },
            _("PLC time: %s (UTC)") % (failure.date_plc or _("unreadable")),
        ]
        if failure.production_id:
            lines.append(_("Manufacturing order running: %s") % failure.production_id.name)
        if failure.decode_errors:
            lines.append(failure.decode_errors)
        return (
            self.env["maintenance.request"]
            .sudo()
            .create(
                {
                    "name": failure.name,
                    "equipment_id": equipment.id,
                    "maintenance_type": "corrective",
                    "request_date": fields.Date.context_today(self),
                    "description": "\n".join(lines),
                    "company_id": failure.plc_id.company_id.id,
                }
            )
        )

    @api.model
    def _maintenance_equipment(self, equipment):
        """The maintenance.equipment of each SCADA equipment, created when missing."""
        for item in equipment.sudo().filtered(lambda e: not e.maintenance_equipment_id):
            item.maintenance_equipment_id = (
                self.env["maintenance.equipment"]
                .sudo()
                .create(
                    {
                        "name": "%s (%s)" % (item.name, item.plc_id.code),
                        "note": "PLC %s, equipment code %s" % (item.plc_id.code, item.code),
                        "company_id": item.plc_id.company_id.id,
                    }
                )
            )
        return equipment.sudo().mapped("maintenance_equipment_id")

    @api.model
    def _requests_done(self, requests):
        """Requests moved to a done stage: the failures they were opened for end."""
        if not requests:
            return True
        failures = (
            self.env["scada.equipment.failure"]
            .sudo()
            .search([("maintenance_request_id", "in", requests.ids), ("state", "=", "open")])
        )
        for request in requests:
            self.sudo()._resolve(
                failures.filtered(lambda f, request=request: f.maintenance_request_id == request),
                _("maintenance request %s done") % request.name,
                user=self.env.user,
            )
        return True

    @api.model
    def _resolved(self, failures):
        result = super()._resolved(failures)
        for failure in failures.sudo().filtered(
            lambda f: f.maintenance_request_id and not f.maintenance_request_id.stage_id.done
        ):
            failure.maintenance_request_id.message_post(
                body=_("The PLC failure ended: %s.") % (failure.resolution or "")
            )
        return result
