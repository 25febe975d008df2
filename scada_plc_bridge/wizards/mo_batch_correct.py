from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from ..const import KG_DIGITS, SILOS


class MoBatchCorrect(models.TransientModel):
    """A manager corrects the figures of a batch held for review, field by
    field with a reason, instead of choosing between posting a wrong
    figure (Accept) and dosing the recipe again (Reset).  Old and new values
    go to the chatter and the history; the batch then finishes."""

    _name = "mo.batch.correct"
    _description = "Correct the figures of a held SCADA batch"

    batch_id = fields.Many2one("mo.batch", required=True, readonly=True)
    reason = fields.Text(required=True, help="Why the PLC's figures are wrong; kept in the history.")
    reported_weight = fields.Float(string="Reported Finished Weight (kg)", digits=KG_DIGITS, readonly=True)
    corrected_weight = fields.Float(string="Corrected Finished Weight (kg)", digits=KG_DIGITS)
    line_ids = fields.One2many("mo.batch.correct.line", "wizard_id", string="Silos")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        batch = self.env["mo.batch"].browse(self.env.context.get("active_id")).exists()
        if not batch:
            return values
        names = {silo.tag: silo.display_name for silo in batch.plc_id.silo_ids}
        values.update(
            batch_id=batch.id,
            reported_weight=batch.actual_weight_quantity_finished_goods,
            corrected_weight=batch.actual_weight_quantity_finished_goods,
            line_ids=[
                (
                    0,
                    0,
                    {
                        "tag": tag,
                        "name": names.get(tag, label),
                        "planned": batch["consumption_" + tag],
                        "reported": batch["actual_consumption_" + tag],
                        "corrected": batch["actual_consumption_" + tag],
                    },
                )
                for tag, _silo_id, label in SILOS
                if batch["consumption_" + tag] or batch["actual_consumption_" + tag]
            ],
        )
        return values

    def _changes(self):
        """(what, old kg, new kg) for each figure the manager changed."""
        self.ensure_one()
        digits = KG_DIGITS[1]
        changes = [
            (line.name, line.reported, line.corrected)
            for line in self.line_ids
            if round(line.corrected - line.reported, digits)
        ]
        if round(self.corrected_weight - self.reported_weight, digits):
            changes.append((_("Finished weight"), self.reported_weight, self.corrected_weight))
        return changes

    def action_correct(self):
        self.ensure_one()
        self.env["scada.plc"]._check_manager()
        if any(line.corrected < 0 for line in self.line_ids) or self.corrected_weight <= 0:
            raise UserError(_("Corrected figures must not be negative, and the finished weight above 0 kg."))
        changes = self._changes()
        if not changes:
            raise UserError(
                _("No figure was changed; use Accept figures to post them as the PLC reported them.")
            )
        batch = self.env["scada.task.finish"].sudo()._lock_batches(self.batch_id.ids).with_env(self.env)
        if not batch or batch.review_state != "needs_review":
            raise UserError(_("%s is not held for review (any more).") % self.batch_id.mo_reference)

        def kg(value):
            return formatLang(self.env, value, digits=KG_DIGITS[1])

        note = _("Figures corrected by %(user)s: %(reason)s\n%(changes)s\nHeld because: %(held)s") % {
            "user": self.env.user.name,
            "reason": self.reason,
            "changes": "\n".join(
                _("%(what)s: %(old)s kg -> %(new)s kg") % {"what": what, "old": kg(old), "new": kg(new)}
                for what, old, new in changes
            ),
            "held": batch.review_reasons,
        }
        values = {"review_state": "accepted", "review_reasons": note}
        values.update({"actual_consumption_" + line.tag: line.corrected for line in self.line_ids})
        values["actual_weight_quantity_finished_goods"] = self.corrected_weight
        batch.sudo().write(values)
        batch._post_note(note)
        return batch.action_finish_accepted()
