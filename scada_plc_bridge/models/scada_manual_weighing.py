from odoo import api, fields, models

from ..const import KG_DIGITS

STATES = [
    ("recorded", "Recorded"),
    ("posted", "Posted"),
    ("held", "Held for Review"),
    ("rejected", "Rejected"),
]


class ScadaManualWeighing(models.Model):
    """A micro-ingredient weighed by hand at a scale station and entered on
    the HMI, as the PLC's weighing mailbox (D9000-D9013) reported it: kept
    as read (batch, MO text, product id, kg) and as Odoo understood it.

    Recorded: on a batch in the queue, posted with its consumption by Task 3.
    Posted: on the MO's raw moves.  Held: not trusted (reason); a SCADA
    manager accepts or rejects it.  Written by the bridge only (as
    superuser); users act through the buttons."""

    _name = "scada.manual.weighing"
    _inherit = ["mail.thread"]
    _description = "SCADA manual weighing"
    _order = "is_held desc, date_received desc, id desc"
    _mail_post_access = "read"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, readonly=True, ondelete="restrict")
    batch_id = fields.Many2one("mo.batch", readonly=True, index=True, ondelete="set null")
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True, index=True)
    # As the PLC reported them: the weighing mailbox's BATCH, NO-MO and product words.
    plc_batch_no = fields.Integer("Batch No. (as read)", readonly=True, help="D9000.")
    plc_mo_ref = fields.Char("MO (as read)", readonly=True, help="D9001-D9008: the batch's PLC reference.")
    plc_product_ref = fields.Integer(
        "Scale Product No. (as read)",
        readonly=True,
        help="D9009-D9010: the product's Scale Product No. (on the product form).",
    )
    product_id = fields.Many2one("product.product", readonly=True)
    quantity_kg = fields.Float(string="Quantity (kg)", digits=KG_DIGITS, readonly=True)
    content_hash = fields.Char(
        readonly=True, required=True, help="The mailbox event's identity: a repeated read is recorded once."
    )
    plc_words = fields.Char(
        string="Raw Words", readonly=True, help="The mailbox words as read (D9000-D9013)."
    )
    date_received = fields.Datetime(
        string="Received On", required=True, readonly=True, default=fields.Datetime.now
    )
    state = fields.Selection(STATES, required=True, default="recorded", readonly=True, tracking=True)
    is_held = fields.Boolean(compute="_compute_is_held", store=True)
    reason = fields.Text(readonly=True, help="Why the weighing is held or was rejected.")
    note = fields.Text(readonly=True, help="How the weighing was posted.")
    move_id = fields.Many2one("stock.move", string="Posted on Move", readonly=True)
    date_posted = fields.Datetime(string="Posted On", readonly=True)
    decided_by_id = fields.Many2one("res.users", string="Accepted/Rejected By", readonly=True)
    date_decided = fields.Datetime(string="Accepted/Rejected On", readonly=True)
    company_id = fields.Many2one(related="plc_id.company_id", store=True)

    _sql_constraints = [
        (
            "content_hash_uniq",
            "unique(plc_id, content_hash)",
            "A weighing of the PLC's mailbox is recorded once.",
        ),
    ]

    @api.depends("state")
    def _compute_is_held(self):
        for weighing in self:
            weighing.is_held = weighing.state == "held"

    def name_get(self):
        return [
            (
                weighing.id,
                "%s %.2f kg %s"
                % (
                    weighing.plc_mo_ref or "?",
                    weighing.quantity_kg,
                    weighing.product_id.display_name or "#%s" % weighing.plc_product_ref,
                ),
            )
            for weighing in self
        ]

    # -- buttons: each hands off to the service (services/task_weighings.py) ----
    def action_accept(self):
        return self.env["scada.task.weighings"]._accept(self)

    def action_reject(self):
        return self.env["scada.task.weighings"]._reject(self)
