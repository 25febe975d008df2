from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..const import ARCHIVE_CONTEXT_KEY, SILOS

# A batch the PLC failed is auto-cancelled: it is archived as cancelled and
# keeps the PLC's failure (status_operation).  There is no "failed" status.
HISTORY_STATUSES = [("completed", "Completed"), ("cancelled", "Cancelled")]
# rules.GRADE's grades of a batch's material accuracy.
ACCURACY_GRADES = [("normal", "Normal"), ("warning", "Warning"), ("critical", "Critical")]
# A stored percentage of the history, averaged when grouped.
AVERAGED_PERCENT = {"digits": (16, 2), "readonly": True, "group_operator": "avg"}


class MoHistory(models.Model):
    """The immutable archive of batches: completed or cancelled."""

    _name = "mo.history"
    _inherit = ["scada.batch.data"]
    _description = "SCADA batch history"
    _order = "date_archived desc, id desc"
    _rec_name = "mo_reference"

    status = fields.Selection(
        HISTORY_STATUSES,
        required=True,
        readonly=True,
    )
    notes = fields.Text(readonly=True)
    date_archived = fields.Datetime(
        string="Archived On", required=True, readonly=True, index=True, default=fields.Datetime.now
    )
    queue_batch_id = fields.Integer(
        string="Queue Batch ID", readonly=True, index=True, help="The id the batch had in the queue."
    )
    archived_by_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    # Yield and accuracy, figured once at archive time (scada.batch.accuracy) for a
    # completed batch, so a year of reports is a query; a cancelled one has none.
    yield_percent = fields.Float(
        "Yield (%)",
        help="Finished weight against the kg the PLC's silos consumed (manual weighings not counted).",
        **AVERAGED_PERCENT,
    )
    deviation_percent = fields.Float(
        "Total Deviation (%)",
        help="The silos' total consumption against the total planned.",
        **AVERAGED_PERCENT,
    )
    accuracy_grade = fields.Selection(
        ACCURACY_GRADES,
        string="Accuracy",
        readonly=True,
        index=True,
        help="The worst of the silos' grades and the total's: normal up to the warning limit, warning up to "
        "the critical limit, critical beyond it or for consumption not planned (SCADA settings, or the "
        "silo's own limits).",
    )
    locals().update(
        {
            "accuracy_grade_" + tag: fields.Selection(
                ACCURACY_GRADES, string="Accuracy %s" % label, readonly=True, help="Grade of %s." % label
            )
            for tag, _silo_id, label in SILOS
        }
    )
    manual_weighing_ids = fields.Many2many(
        "scada.manual.weighing", string="Manual Weighings", compute="_compute_manual_weighing_ids"
    )

    def init(self):
        # The day report and the PLC's figures read one PLC's batches over a range of days.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS mo_history_plc_id_date_archived_index"
            " ON mo_history (plc_id, date_archived)"
        )

    @api.depends("production_id")
    def _compute_manual_weighing_ids(self):
        """The weighings of the MO (the batch's, and those after it was done)."""
        weighings = self.env["scada.manual.weighing"].search(
            [("production_id", "in", self.production_id.ids)]
        )
        for history in self:
            history.manual_weighing_ids = weighings.filtered(
                lambda w, production=history.production_id: w.production_id == production
            )

    @api.model
    def _failure_domain(self):
        """Batches the PLC failed (they are auto-cancelled)."""
        return [("status_operation", "=", True)]

    @api.model
    def _failure_count(self, since):
        return self.search_count(self._failure_domain() + [("date_archived", ">=", since)])

    def _consumption_is_final(self):
        return True  # archived: what was dosed is all there is

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get(ARCHIVE_CONTEXT_KEY):
            raise AccessError(_("Batch history is written by the SCADA queue only."))
        return super().create(vals_list)

    def write(self, vals):  # pylint: disable=method-required-super
        raise AccessError(_("Batch history cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise AccessError(_("Batch history cannot be deleted."))
