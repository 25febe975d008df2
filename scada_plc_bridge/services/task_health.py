"""Task 4: batch health.  One activity per problem for the SCADA managers,
closed when the problem is gone: batches the PLC stopped reporting on,
batches held because their figures are implausible (the same rules as
the trust boundary, scada.plausibility), batches Odoo keeps refusing to
finish."""

import logging
from datetime import timedelta

from odoo import _, api, fields, models

from ..const import REVIEW_SUMMARY

_logger = logging.getLogger(__name__)


class ScadaTaskHealth(models.AbstractModel):
    _name = "scada.task.health"
    _description = "SCADA Task 4: batch health"

    @api.model
    def _check_health(self, plcs=None):
        """The health of the batches (of these PLCs only, when given).
        Returns the number of open problems."""
        domain = [("plc_id", "in", plcs.ids)] if plcs is not None else []
        batches = self.env["mo.batch"].search(domain)
        push_failed_before = fields.Datetime.now() - timedelta(
            minutes=self.env["scada.settings"]._get("health_push_failed_minutes")
        )
        problems = {}
        for batch in batches:
            if batch.is_stale:
                problems[(batch.id, _("SCADA: no PLC read for too long"))] = _("Last PLC read: %s") % (
                    batch.last_read_age
                )
            if batch.review_state == "needs_review":
                # The trust boundary's rules (scada.plausibility) held it.
                problems[(batch.id, REVIEW_SUMMARY)] = batch.review_reasons
            if (
                batch.push_state != "none"
                and batch.date_push_failed
                and batch.date_push_failed < push_failed_before
            ):
                problems[(batch.id, _("SCADA: failing to push to Odoo"))] = batch.last_error
        self._sync_health_activities(problems, batches if plcs is not None else None)
        return len(problems)

    @api.model
    def _sync_health_activities(self, problems, batches=None):
        """Open an activity per new problem, close those whose problem is
        gone (among these batches' activities, or all)."""
        activity_type = self.env.ref("scada_plc_bridge.mail_activity_type_scada_health")
        domain = [("res_model", "=", "mo.batch"), ("activity_type_id", "=", activity_type.id)]
        if batches is not None:
            domain.append(("res_id", "in", batches.ids))
        open_activities = self.env["mail.activity"].search(domain)
        existing = {(activity.res_id, activity.summary): activity for activity in open_activities}
        for key, activity in existing.items():
            if key not in problems:
                activity.action_feedback(feedback=_("Resolved."))
        managers = self.env.ref("scada_plc_bridge.group_scada_manager").users.filtered(lambda u: not u.share)
        for (batch_id, summary), detail in problems.items():
            if (batch_id, summary) in existing:
                continue
            batch = self.env["mo.batch"].browse(batch_id)
            user = batch.plc_id.responsible_user_id or managers[:1] or self.env.user
            _logger.warning("[TASK 4] %s: %s", batch.mo_reference, summary)
            batch.activity_schedule(
                activity_type_id=activity_type.id, summary=summary, note=detail, user_id=user.id
            )
