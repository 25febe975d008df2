from odoo import api, fields, models

from ..const import KG_DIGITS, SILOS


class ScadaSilo(models.Model):
    _name = "scada.silo"
    _inherit = ["mail.thread"]  # a count's note (services/silo_stock.py)
    _description = "SCADA silo or liquid tank"
    _order = "plc_id, plc_silo_id"

    name = fields.Char(required=True, help="Name on the line, e.g. SILO A or LQ114.")
    code = fields.Char(required=True, help="Equipment code, e.g. silo101.")
    tag = fields.Selection(
        [(tag, label) for tag, _silo_id, label in SILOS],
        required=True,
        help="Which consumption fields of the PLC slot belong to this material point.",
    )
    plc_silo_id = fields.Integer(
        string="PLC ID", required=True, help="Id word the PLC reports for this material point (101-115)."
    )
    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, ondelete="cascade", index=True)
    product_id = fields.Many2one(
        "product.product", string="Usual Product", help="The material it usually holds."
    )
    company_id = fields.Many2one(related="plc_id.company_id", store=True)
    active = fields.Boolean(default=True)
    max_deviation_percent = fields.Float(
        string="Max Deviation (%)", help="Plausibility limit of this silo; 0: the SCADA setting."
    )
    max_deviation_kg = fields.Float(
        string="Max Deviation (kg)", help="Plausibility limit of this silo; 0: the SCADA setting."
    )
    accuracy_warning_percent = fields.Float(
        string="Accuracy Warning Above (%)", help="Accuracy grade limit of this silo; 0: the SCADA setting."
    )
    accuracy_critical_percent = fields.Float(
        string="Accuracy Critical Above (%)", help="Accuracy grade limit of this silo; 0: the SCADA setting."
    )
    # Silos as stock (used when the PLC keeps silo stock): services/silo_stock.py.
    location_id = fields.Many2one(
        "stock.location",
        string="Stock Location",
        domain="[('usage', '=', 'internal'), ('company_id', 'in', (company_id, False))]",
        ondelete="restrict",
        help="Internal location of what this silo holds: fill it with ordinary transfers; batches "
        "take their dose of this silo from it when the PLC keeps silo stock.",
    )
    capacity_kg = fields.Float(string="Capacity (kg)", digits=KG_DIGITS)
    low_level_kg = fields.Float(
        string="Low Level (kg)",
        digits=KG_DIGITS,
        help="An alarm when a batch leaves less than this; 0: none.",
    )
    high_level_kg = fields.Float(string="High Level (kg)", digits=KG_DIGITS)
    on_hand_kg = fields.Float(
        string="On Hand (kg)", digits=KG_DIGITS, compute="_compute_level", help="Of its usual product."
    )
    level_percent = fields.Float(string="Level (%)", compute="_compute_level")
    lots_inside = fields.Text(compute="_compute_lots_inside", help="What the silo holds, oldest fill first.")
    date_last_fill = fields.Datetime(string="Last Fill", compute="_compute_lots_inside")

    @api.depends("location_id", "product_id", "capacity_kg")
    def _compute_level(self):
        stock = self.env["scada.silo.stock"]
        kg = self.env.ref("uom.product_uom_kgm")
        for silo in self:
            on_hand = stock._on_hand(silo)
            if silo.product_id:
                on_hand = silo.product_id.uom_id._compute_quantity(on_hand, kg, raise_if_failure=False)
            silo.on_hand_kg = on_hand
            silo.level_percent = 100.0 * on_hand / silo.capacity_kg if silo.capacity_kg else 0.0

    @api.model_create_multi
    def create(self, vals_list):
        # Silos come in fifteens with their PLC: no "created" note and no follower on each.
        quiet = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
        return super(ScadaSilo, quiet).create(vals_list)

    @api.depends("location_id")
    def _compute_lots_inside(self):
        stock = self.env["scada.silo.stock"]
        for silo in self:
            silo.lots_inside = stock._lots_inside_text(silo)
            silo.date_last_fill = stock._last_fill(silo)

    def action_count(self):
        self.ensure_one()
        return self.env["scada.silo.stock"]._start_count(self)

    def action_create_location(self):
        self.env["scada.silo.stock"]._create_locations(self)
        return True

    _sql_constraints = [
        ("tag_plc_uniq", "unique(plc_id, tag)", "Each material point appears once per PLC."),
    ]
