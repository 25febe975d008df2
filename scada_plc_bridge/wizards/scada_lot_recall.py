from odoo import _, api, fields, models


class ScadaLotRecall(models.TransientModel):
    """The recall of a raw lot: the batches, MOs, finished lots and
    customers' deliveries that used it, to read or export."""

    _name = "scada.lot.recall"
    _description = "Recall of a lot"

    lot_id = fields.Many2one("stock.production.lot", string="Recalled Lot", required=True, readonly=True)
    line_ids = fields.One2many("scada.lot.recall.line", "recall_id", string="Used In", readonly=True)
    production_count = fields.Integer(string="MOs", compute="_compute_counts")
    finished_lot_count = fields.Integer(string="Finished Lots", compute="_compute_counts")
    partner_count = fields.Integer(string="Customers", compute="_compute_counts")

    @api.depends("line_ids")
    def _compute_counts(self):
        for recall in self:
            recall.production_count = len(recall.line_ids.production_id)
            recall.finished_lot_count = len(recall.line_ids.finished_lot_id)
            recall.partner_count = len(recall.line_ids.partner_id)

    @api.model
    def _open_for(self, lot):
        lot.ensure_one()
        rows = self.env["scada.lot.recall.query"]._rows(lot)
        recall = self.create({"lot_id": lot.id, "line_ids": [(0, 0, row) for row in rows]})
        return {
            "type": "ir.actions.act_window",
            "name": _("Recall of %s") % lot.display_name,
            "res_model": self._name,
            "res_id": recall.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_open_lines(self):
        """The lines as a list of their own: Odoo's export works there."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Recall of %s") % self.lot_id.display_name,
            "res_model": "scada.lot.recall.line",
            "view_mode": "tree",
            "domain": [("recall_id", "=", self.id)],
        }
