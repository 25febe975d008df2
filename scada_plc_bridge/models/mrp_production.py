from odoo import _, api, fields, models
from odoo.exceptions import UserError


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    scada_batch_ids = fields.One2many("mo.batch", "production_id", string="SCADA Batches")
    scada_history_ids = fields.One2many("mo.history", "production_id", string="SCADA History")

    def action_cancel(self):
        """An MO whose batch is queued for or on the line is cancelled through
        its batch (SCADA > Batches), which clears the PLC's slot first; the
        batch's own cancel comes back here with the context key."""
        if not self.env.context.get("scada_batch_cancel"):
            queued = self.filtered("scada_batch_ids")
            if queued:
                raise UserError(
                    _(
                        "%(mos)s: the batch is queued for or running on the line. Cancel the batch in "
                        "SCADA > Batches: the PLC's slot is cleared first, and a batch the line runs is "
                        "recorded when the PLC reports on it."
                    )
                    % {"mos": ", ".join(queued.mapped("name"))}
                )
        return super().action_cancel()

    def button_mark_done(self):
        """An MO whose batch is on the line is finished by the bridge, with
        what the PLC dosed (Task 3 comes here with the context key); marked
        done by hand it would post the planned quantities, and the PLC's
        actuals could never be booked."""
        self._check_no_scada_batch(_("marked done"))
        return super().button_mark_done()

    def _post_inventory(self, cancel_backorder=False):
        self._check_no_scada_batch(_("posted"))
        return super()._post_inventory(cancel_backorder=cancel_backorder)

    def _check_no_scada_batch(self, what):
        if self.env.context.get("scada_batch_finish"):
            return
        queued = self.filtered("scada_batch_ids")
        if queued:
            raise UserError(
                _(
                    "%(mos)s cannot be %(what)s by hand: its batch is queued for or running on the line, "
                    "and the bridge finishes it with what the PLC dosed. Cancel the batch in SCADA > Batches "
                    "if the line is not to run it."
                )
                % {"mos": ", ".join(queued.mapped("name")), "what": what}
            )

    @api.model
    def _cron_scada_demo_wave(self, template_xmlids, count=3):
        """The living demo (demo data only): a few new MOs like the demo's,
        confirmed every few minutes, so the board always shows work."""
        templates = [self.env.ref(xmlid, raise_if_not_found=False) for xmlid in template_xmlids]
        templates = [template for template in templates if template]
        created = self.browse()
        start = self.search_count([])  # rotate through the templates from wave to wave
        for index in range(min(count, len(templates))):
            template = templates[(start + index) % len(templates)]
            created |= self.with_context(import_file=True).create(
                {
                    "product_id": template.product_id.id,
                    "product_uom_id": template.product_uom_id.id,
                    "product_qty": template.product_qty,
                    "bom_id": template.bom_id.id,
                    "company_id": template.company_id.id,
                }
            )
        created._create_workorder()  # the form's onchange: the line's operation, for its OEE
        created.action_confirm()
        return created

    def _scada_plc(self, default_plc):
        """The line that runs this MO: its BoM's PLC, else a work centre's, else the default."""
        self.ensure_one()
        return self.bom_id._scada_plc(default_plc)
