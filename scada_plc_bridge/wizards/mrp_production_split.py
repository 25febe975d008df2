from odoo import _, api, fields, models


class MrpProductionSplit(models.TransientModel):
    """Split a large order into MOs of at most one batch each (the
    behaviour: services/order_split.py)."""

    _name = "mrp.production.split"
    _description = "Split an order into line batches"

    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True)
    bom_id = fields.Many2one("mrp.bom", string="Bill of Materials")
    product_tmpl_id = fields.Many2one(related="bom_id.product_tmpl_id")
    product_id = fields.Many2one("product.product", domain="[('product_tmpl_id', '=', product_tmpl_id)]")
    product_uom_id = fields.Many2one("uom.uom", string="Unit", compute="_compute_product_uom_id")
    quantity = fields.Float(digits="Product Unit of Measure", help="The whole order, in the unit shown.")
    capacity = fields.Float(
        string="Batch Capacity (kg)",
        help="The most kg one MO (one batch on the line) holds: the BoM's Line Batch Capacity, "
        "else its line's.",
    )
    mode = fields.Selection(
        [("remainder", "Full batches, the remainder last"), ("equal", "Equal MOs")],
        string="Split",
        default="remainder",
        required=True,
    )
    preview = fields.Char(compute="_compute_preview")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model, record_id = self.env.context.get("active_model"), self.env.context.get("active_id")
        if model == "mrp.production" and record_id:
            production = self.env["mrp.production"].browse(record_id)
            values.update(
                production_id=production.id,
                bom_id=production.bom_id.id,
                product_id=production.product_id.id,
                quantity=production.product_qty,
            )
        elif model == "mrp.bom" and record_id:
            bom = self.env["mrp.bom"].browse(record_id)
            values.update(
                bom_id=bom.id,
                product_id=(bom.product_id or bom.product_tmpl_id.product_variant_ids[:1]).id,
                quantity=0.0,
            )
        if values.get("bom_id"):
            bom = self.env["mrp.bom"].browse(values["bom_id"])
            values["capacity"] = self.env["scada.order.split"]._default_capacity(bom)
        return values

    @api.depends("production_id", "bom_id")
    def _compute_product_uom_id(self):
        for wizard in self:
            wizard.product_uom_id = wizard.production_id.product_uom_id or wizard.bom_id.product_uom_id

    @api.depends("quantity", "capacity", "mode", "product_uom_id")
    def _compute_preview(self):
        for wizard in self:
            wizard.preview = self.env["scada.order.split"]._preview(
                wizard.quantity, wizard.product_uom_id, wizard.capacity, wizard.mode
            )

    @api.onchange("bom_id")
    def _onchange_bom_id(self):
        if self.bom_id and not self.production_id:
            self.product_id = self.bom_id.product_id or self.bom_id.product_tmpl_id.product_variant_ids[:1]
            self.capacity = self.env["scada.order.split"]._default_capacity(self.bom_id)

    def action_split(self):
        self.ensure_one()
        productions = self.env["scada.order.split"]._split(
            self.quantity, self.capacity, self.mode, self.production_id, self.bom_id, self.product_id
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Split order: %s") % productions[:1].origin,
            "res_model": "mrp.production",
            "view_mode": "tree,form",
            "domain": [("id", "in", productions.ids)],
            "context": {"create": False},
        }
