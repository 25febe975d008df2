"""Manual weighings (the PLC's weighing mailbox, D9000-D9013): a
micro-ingredient weighed by hand at the scale station reaches the MO's
consumption.

* A weighing for a batch in the queue (batch number and PLC reference on
  that PLC) is recorded on the batch and posted by Task 3 with the batch's
  consumption (`_apply_to_production`, called from `_finish_production`).
* A weighing for an MO already done (batch archived) is posted at once as
  an extra consumption on that MO, with a note.
* A weighing that cannot be trusted is held, with its reason and an alarm;
  a SCADA manager accepts it (then as above) or rejects it.

In every case `_record` returns True once the weighing is recorded in
Odoo (now or before: the same content hash is one weighing), so the
mailbox is acknowledged and the scale station is never blocked."""

import logging
import math

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero
from odoo.tools.misc import formatLang

from ..const import KG_DIGITS, plc_batch_word
from ..transaction import is_transient

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "scada_plc_bridge.group_scada_manager"


class ScadaTaskWeighings(models.AbstractModel):
    _name = "scada.task.weighings"
    _description = "SCADA manual weighings: record, hold, post"

    # -- the mailbox ---------------------------------------------------------
    @api.model
    def _record(self, plc, event_data):
        """Record one weighing event (MailboxEvent.as_dict()) of `plc`;
        True once it is recorded (also when it was before)."""
        plc = plc.sudo() if isinstance(plc, models.BaseModel) else self.env["scada.plc"].sudo().browse(plc)
        weighings = self.env["scada.manual.weighing"].sudo()
        content_hash = event_data["content_hash"]
        if weighings.search_count([("plc_id", "=", plc.id), ("content_hash", "=", content_hash)]):
            return True  # read again after a lost acknowledgement: recorded once
        found = event_data.get("fields") or {}
        errors = list(event_data.get("errors") or ())
        product_ref = self._as_int(found.get("product_id"))
        if product_ref is None and found.get("product_id") not in (None, 0):
            errors.append(_("scale product number %r is out of range") % (found.get("product_id"),))
        mo_ref = found.get("mo_id") if isinstance(found.get("mo_id"), str) else ""
        weighing = weighings.create(
            {
                "plc_id": plc.id,
                "content_hash": content_hash,
                "plc_batch_no": self._as_int(found.get("batch_no")) or 0,
                "plc_mo_ref": mo_ref.strip() or False,
                "plc_product_ref": product_ref or 0,
                "quantity_kg": self._as_float(found.get("quantity")),
                "plc_words": " ".join(str(word) for word in event_data.get("words") or ()) or False,
            }
        )
        self._settle(weighing, errors)
        # A weighing whose batch left the queue before Task 3 posted it (none
        # should): settled again, on the MO it names.
        for orphan in weighings.search(
            [("plc_id", "=", plc.id), ("state", "=", "recorded"), ("batch_id", "=", False)]
        ):
            self._settle(orphan, check_quantity=not orphan.decided_by_id)
        _logger.info("[WEIGHING] %s: %s %s", plc.code, weighing.display_name, weighing.state)
        return True

    @api.model
    def _settle(self, weighing, errors=(), check_quantity=True):
        """Recorded on its batch, posted on its done MO, or held; whatever
        goes wrong here holds the weighing (with the error), so it never
        keeps the mailbox from being acknowledged."""
        try:
            with self.env.cr.savepoint():
                target, problems = self._resolve(weighing)
                if check_quantity:
                    problems += self._quantity_problems(weighing, errors)
                if problems:
                    self._hold(weighing, "\n".join(problems))
                else:
                    self._place(weighing, target)
        except Exception as error:
            if is_transient(error):
                raise
            _logger.exception("[WEIGHING] %s: not settled", weighing.plc_id.code)
            self._hold(weighing, _("Odoo could not settle it: %s") % error)

    @api.model
    def _as_int(self, value):
        """A PLC integer that fits an Odoo Integer, else None."""
        if isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31:
            return value
        return None

    @api.model
    def _as_float(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return 0.0
        return float(value)

    @api.model
    def _resolve(self, weighing):
        """(the batch in the queue or the history record it names, problems):
        who the weighing is for, and what stops it from being posted."""
        problems = []
        target = self._find_target(weighing)
        if not target:
            problems.append(
                _("No batch %(batch)s of MO %(mo)s on %(plc)s, in the queue or the history.")
                % {
                    "batch": weighing.plc_batch_no,
                    "mo": weighing.plc_mo_ref or "?",
                    "plc": weighing.plc_id.name,
                }
            )
        elif target._name == "mo.history" and (
            target.status != "completed" or target.production_id.state != "done"
        ):
            problems.append(
                _("MO %(mo)s was cancelled: the weighing cannot be posted on it.")
                % {"mo": target.mo_reference}
            )
        if target:
            weighing.write(
                {
                    "production_id": target.production_id.id,
                    "batch_id": target.id if target._name == "mo.batch" else False,
                }
            )
        product, problem = self._find_product(weighing)
        kg = self.env.ref("uom.product_uom_kgm")
        if problem:
            problems.append(problem)
        elif product.type not in ("product", "consu"):
            problems.append(_("%s is not a stock product.") % product.display_name)
        elif product.uom_id.category_id != kg.category_id:
            problems.append(_("%s is not measured by weight.") % product.display_name)
        elif product.tracking != "none" and not (
            # Lots taken oldest first with the batch (silos as stock); not on an MO already done.
            product.tracking == "lot" and weighing.plc_id.silo_stock and target and target._name == "mo.batch"
        ):
            problems.append(
                _("%s is tracked by lot or serial number: post it by hand with its lot.")
                % product.display_name
            )
        weighing.product_id = product
        return target, problems

    @api.model
    def _find_product(self, weighing):
        """(the product whose Scale Product No. the scale station sent, among
        the products of the weighing's PLC's company, or why there is none)."""
        number = weighing.plc_product_ref
        if not number or number < 0:
            return self.env["product.product"], _("No scale product number (%s).") % number
        products = (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("product_tmpl_id.scada_weighing_code", "=", number),
                    ("company_id", "in", [weighing.plc_id.company_id.id, False]),
                ]
            )
        )
        if not products:
            return products, _("Unknown product: no product has scale product number %s.") % number
        if len(products) > 1:
            return products[:0], _(
                "Scale product number %(number)s names several products: %(products)s."
            ) % {
                "number": number,
                "products": ", ".join(products.mapped("display_name")),
            }
        return products, ""

    @api.model
    def _find_target(self, weighing):
        """The batch in the queue with this batch word and PLC reference on
        the weighing's PLC, else the newest archived one."""
        domain = [("plc_id", "=", weighing.plc_id.id), ("plc_ref", "=", weighing.plc_mo_ref or "")]
        for model, order in (("mo.batch", "id desc"), ("mo.history", "date_archived desc, id desc")):
            records = self.env[model].sudo().search(domain, order=order)
            records = records.filtered(lambda r: plc_batch_word(r.batch_no) == weighing.plc_batch_no)
            if records:
                return records[0]
        return None

    @api.model
    def _quantity_problems(self, weighing, errors=()):
        """What is wrong with the weighed kg (and the mailbox's decoding)."""
        problems, quantity = [], weighing.quantity_kg
        limit = self.env["scada.settings"]._get("weighing_max_kg")
        if float_compare(quantity, 0.0, precision_digits=KG_DIGITS[1]) < 0:
            problems.append(_("Negative quantity: %s kg.") % self._kg(quantity))
        elif float_is_zero(quantity, precision_digits=KG_DIGITS[1]):
            problems.append(_("Zero quantity."))
        elif limit and float_compare(quantity, limit, precision_digits=KG_DIGITS[1]) > 0:
            problems.append(
                _("%(kg)s kg is above the limit of %(limit)s kg per weighing.")
                % {"kg": self._kg(quantity), "limit": self._kg(limit)}
            )
        if errors:
            problems.append(_("The PLC's weighing mailbox holds invalid data: %s") % "; ".join(errors))
        return problems

    @api.model
    def _kg(self, quantity):
        return formatLang(self.env, quantity, digits=KG_DIGITS[1])

    @api.model
    def _hold(self, weighing, reason):
        weighing.write({"state": "held", "reason": reason})
        self.env["scada.alarm"]._raise(
            "weighing_held",
            weighing.plc_id,
            _("Manual weighing held for review (%(weighing)s): %(reason)s")
            % {"weighing": weighing.display_name, "reason": reason},
            batch=weighing.batch_id or None,
            production=weighing.production_id or None,
        )
        weighing.plc_id._notify_board(weighing.batch_id.ids, alarm=True)

    @api.model
    def _place(self, weighing, target):
        """A trusted weighing: recorded on its queued batch (Task 3 posts it),
        or posted at once on its MO already done."""
        if target._name == "mo.batch":
            weighing.write({"state": "recorded", "batch_id": target.id, "reason": False})
            target._post_note(
                _("Manual weighing recorded: %(kg)s kg %(product)s, posted when the batch is finished.")
                % {"kg": self._kg(weighing.quantity_kg), "product": weighing.product_id.display_name}
            )
            weighing.plc_id._notify_board(target.ids)
            return
        try:
            with self.env.cr.savepoint():
                self._post_on_done_production(weighing, target.production_id)
        except Exception as error:  # Odoo refused the move: held, never lost, never blocking
            if is_transient(error):
                raise
            self._hold(
                weighing,
                _("Odoo refused to post it on %(mo)s: %(error)s")
                % {"mo": target.mo_reference, "error": error},
            )

    # -- posting ---------------------------------------------------------------
    @api.model
    def _apply_to_production(self, batch, production):
        """Task 3, in its transaction, before the MO is marked done: the
        batch's recorded weighings on the MO's raw moves.

        A component the BoM lists without a silo is added by hand: its
        weighings are what was used, replacing the planned figure Task 3
        puts on it.  A component a silo doses gets the weighed kg on top of
        what the PLC reports.  A product the BoM does not list gets an extra
        raw move, flagged `scada_manual_weighing`.  Weighings of the batch
        under an earlier batch number (before a reset) are held."""
        weighings = batch.sudo().manual_weighing_ids.filtered(lambda w: w.state == "recorded")
        current = weighings.filtered(lambda w: w.plc_batch_no == plc_batch_word(batch.batch_no))
        for weighing in weighings - current:
            self._hold(
                weighing,
                _("Weighed for batch %(old)s, which was reset (now %(new)s): not posted.")
                % {"old": weighing.plc_batch_no, "new": plc_batch_word(batch.batch_no)},
            )
        kg = self.env.ref("uom.product_uom_kgm")
        now = fields.Datetime.now()
        plc = batch.plc_id
        scale = plc.scale_location_id if plc.silo_stock else None  # None: each move's own location
        for product in current.mapped("product_id"):
            mine = current.filtered(lambda w, product=product: w.product_id == product)
            moves = production.move_raw_ids.filtered(
                lambda m, product=product: m.product_id == product and m.state not in ("done", "cancel")
            )
            by_hand = moves.filtered(lambda m: not m.bom_line_id.scada_silo_id)
            weighed = sum(mine.mapped("quantity_kg"))
            if by_hand:
                move = by_hand[0]
                # The weighings replace the planned figure (on every such move).
                by_hand.move_line_ids.filtered(lambda line: line.state not in ("done", "cancel")).qty_done = 0
            elif moves:
                move = moves[0]
            else:
                values = production._get_move_raw_values(
                    product, kg._compute_quantity(weighed, product.uom_id), product.uom_id
                )
                move = self.env["stock.move"].create(
                    dict(values, additional=True, scada_manual_weighing=True)
                )
                move._action_confirm(merge=False)
            self.env["scada.lot.tracking"]._consume(
                move, kg._compute_quantity(weighed, move.product_uom), batch.plc_id, location=scale
            )
            used, rounding = move.quantity_done, move.product_uom.rounding
            if float_compare(used, move.product_uom_qty, precision_rounding=rounding) > 0:
                # More than planned: what was used becomes the move's demand.  Else
                # Odoo 14 splits the excess into an extra move when the MO is done,
                # rounding its split UP: 0.01 kg more consumed than weighed.
                move.product_uom_qty = used
            mine.write(
                {
                    "state": "posted",
                    "move_id": move.id,
                    "date_posted": now,
                    "note": _("Posted with the batch's consumption on %s.") % production.name,
                }
            )

    @api.model
    def _post_on_done_production(self, weighing, production):
        """An extra consumption on an MO already done: a done raw move of the
        component, from the MO's source location to production, linked to
        the MO.  This is what Odoo 14 itself does when a component is added
        to an unlocked done MO (mrp's stock.move.default_get makes it done
        and `additional`, and a done move line moves the quants when it is
        created, and links to the produced lines for traceability), so the
        MO's components tab, traceability and stock agree; no separate
        picking to look for."""
        product = weighing.product_id
        values = production._get_move_raw_values(product, 0.0, product.uom_id)
        now = fields.Datetime.now()
        values.update(
            {
                "state": "done",
                "additional": True,
                "scada_manual_weighing": True,
                "date": now,
                "date_deadline": now,
                "name": _("%(mo)s: manual weighing") % {"mo": production.name},
            }
        )
        move = self.env["stock.move"].sudo().create(values)
        self.env["stock.move.line"].sudo().create(
            {
                "move_id": move.id,
                "product_id": product.id,
                "product_uom_id": move.product_uom.id,
                "location_id": move.location_id.id,
                "location_dest_id": move.location_dest_id.id,
                "qty_done": self.env.ref("uom.product_uom_kgm")._compute_quantity(
                    weighing.quantity_kg, move.product_uom
                ),
                "production_id": production.id,
                "company_id": move.company_id.id,
                "date": now,
            }
        )
        note = _(
            "Manual weighing after the MO was done: %(kg)s kg %(product)s (PLC %(plc)s, batch %(batch)s) "
            "posted as an extra consumption."
        ) % {
            "kg": self._kg(weighing.quantity_kg),
            "product": product.display_name,
            "plc": weighing.plc_id.name,
            "batch": weighing.plc_batch_no,
        }
        production.sudo().message_post(
            body=note, author_id=self.env.ref("base.partner_root").id, subtype_xmlid="mail.mt_note"
        )
        weighing.write(
            {"state": "posted", "move_id": move.id, "date_posted": now, "note": note, "reason": False}
        )

    @api.model
    def _hold_for_cancelled(self, batch):
        """A batch cancelled with weighings recorded on it: they are on no MO
        now, so held for a manager (what was weighed is not booked).  Returns
        a note for the history."""
        weighings = batch.sudo().manual_weighing_ids.filtered(lambda w: w.state == "recorded")
        for weighing in weighings:
            self._hold(weighing, _("The batch was cancelled: the weighing is on no MO."))
        if not weighings:
            return ""
        return _("Manual weighings held (the batch was cancelled): %s") % ", ".join(
            weighings.mapped("display_name")
        )

    # -- a manager's decision --------------------------------------------------
    @api.model
    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only SCADA managers may accept or reject manual weighings."))

    @api.model
    def _accept(self, weighings):
        """Held weighings accepted as they are: the batch or MO and the
        product must be known (else reject them); the kg limit is the
        manager's to overrule, a zero or negative weighing is not."""
        self._check_manager()
        for weighing in weighings.sudo():
            if weighing.state != "held":
                raise UserError(
                    _("Only a weighing held for review can be accepted: %s") % weighing.display_name
                )
            target, problems = self._resolve(weighing)
            if float_compare(weighing.quantity_kg, 0.0, precision_digits=KG_DIGITS[1]) <= 0:
                problems.append(_("There is no quantity to post."))
            if problems:
                raise UserError(
                    _("%(weighing)s cannot be accepted; reject it:\n%(problems)s")
                    % {"weighing": weighing.display_name, "problems": "\n".join(problems)}
                )
            weighing.write({"decided_by_id": self.env.uid, "date_decided": fields.Datetime.now()})
            self._place(weighing, target)
            if weighing.state == "held":
                raise UserError(weighing.reason)
        self._clear_alarms(weighings.sudo())
        return True

    @api.model
    def _reject(self, weighings):
        """Weighings not posted, for good (held, or recorded on a batch)."""
        self._check_manager()
        for weighing in weighings.sudo():
            if weighing.state not in ("held", "recorded"):
                raise UserError(
                    _("A posted or rejected weighing cannot be rejected: %s") % weighing.display_name
                )
        weighings.sudo().write(
            {"state": "rejected", "decided_by_id": self.env.uid, "date_decided": fields.Datetime.now()}
        )
        self._clear_alarms(weighings.sudo())
        return True

    @api.model
    def _clear_alarms(self, weighings):
        """The held-weighing alarms of these PLCs and MOs, once none of their
        weighings waits for a decision any more."""
        domain = [("state", "=", "held"), ("plc_id", "in", weighings.plc_id.ids)]
        held = self.env["scada.manual.weighing"].sudo().search(domain)
        for plc, production in {(w.plc_id, w.production_id) for w in weighings}:
            if not held.filtered(lambda w, key=(plc, production): (w.plc_id, w.production_id) == key):
                self.env["scada.alarm"]._clear("weighing_held", plc, production)
