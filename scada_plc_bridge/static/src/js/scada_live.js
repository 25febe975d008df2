odoo.define("scada_plc_bridge.live_board", function (require) {
    "use strict";

    /**
     * The live board: batch, alarm and PLC views re-read their records when
     * the runtime says on the bus that something changed (no page reload, no
     * polling of the records by the browser), the person who pressed a PLC
     * button is told its outcome, and the batch board shows the open alarms
     * above the cards until someone acknowledges them.  A slow tick keeps
     * "minutes since the last read" honest when the runtime has stopped.
     */
    const core = require("web.core");
    const FormController = require("web.FormController");
    const KanbanController = require("web.KanbanController");
    const ListController = require("web.ListController");
    const Menu = require("web.Menu");

    const _t = core._t;
    const CHANNEL = "scada_plc_bridge.board";
    const LIVE_MODELS = ["mo.batch", "scada.alarm", "scada.plc", "scada.plc.request", "scada.silo"];
    const CHATTER_FIELDS = ["message_follower_ids", "activity_ids", "message_ids"];
    const TICK_MS = 30000;
    const RELOAD_EVERY_MS = 2000;
    // The menus' counts are re-read at most this often, however busy the bus.
    const MENU_COUNTS_EVERY_MS = 3000;
    // Asked by the views when what they show changed (a button, a reload).
    const MENU_COUNTS_EVENT = "scada_menu_counts";

    const LiveMixin = {
        start: function () {
            const started = this._super.apply(this, arguments);
            if (LIVE_MODELS.includes(this.modelName)) {
                this.call("bus_service", "addChannel", CHANNEL);
                this.call("bus_service", "startPolling");
                this.call("bus_service", "onNotification", this, this._onScadaNotification);
                this._scadaReload = _.throttle(this._scadaReloadNow.bind(this), RELOAD_EVERY_MS, {leading: false});
                this._scadaTicker = setInterval(() => this._scadaReload(), TICK_MS);
                started.then(() => this._scadaRenderAlarms());
            }
            return started;
        },
        destroy: function () {
            clearInterval(this._scadaTicker);
            this._super.apply(this, arguments);
        },
        /**
         * Views kept in the breadcrumbs stay quiet: only the one on screen
         * re-reads and tells the user, so nothing is shown twice.
         */
        _scadaOnScreen: function () {
            return !this.isDestroyed() && this.el && document.body.contains(this.el);
        },
        _onScadaNotification: function (notifications) {
            if (!this._scadaOnScreen()) {
                return;
            }
            let changed = false;
            for (const [channel, message] of notifications) {
                if (channel !== CHANNEL || !message || message.type !== "scada_board") {
                    continue;
                }
                changed = true;
                const request = message.request;
                if (request && request.user_id === this.getSession().uid) {
                    this.displayNotification({
                        title: request.kind,
                        message: request.result || request.state,
                        type: request.state === "done" ? "success" : "danger",
                        sticky: request.state !== "done",
                    });
                }
            }
            if (changed) {
                this._scadaReload();
            }
        },
        /**
         * A batch form re-reads its fields but the chatter's, whoever asks
         * (the bus, a button, a wizard closing): the chatter re-reads its
         * thread itself, and its followers and activities die with a batch
         * the line archives, so a read of them after the batch's can find
         * them gone, which fails inside Odoo's model (no catch helps: its
         * mutex rethrows).
         */
        reload: function (params) {
            const state = this.modelName === "mo.batch" && this.viewType === "form" && this.model.get(this.handle);
            // Only a re-read of the record shown, as it is shown.
            const sameRecord = !["fieldNames", "currentId", "ids", "db_id", "controllerState"].some(
                (key) => params && params[key]
            );
            if (state && state.res_id && sameRecord) {
                const fieldNames = state.getFieldNames().filter((name) => !CHATTER_FIELDS.includes(name));
                params = Object.assign({}, params, {fieldNames});
            }
            const reloaded = this._super(params);
            if (LIVE_MODELS.includes(this.modelName)) {
                core.bus.trigger(MENU_COUNTS_EVENT);
            }
            return reloaded;
        },
        _scadaReloadNow: function () {
            if (!this._scadaOnScreen()) {
                return;
            }
            if (this.modelName === "mo.batch" && this.viewType === "form") {
                return this._scadaReloadBatchForm();
            }
            this.reload().then(() => this._scadaRenderAlarms()).guardedCatch(() => {});
        },
        /**
         * A batch archived meanwhile (finished, cancelled) is shown where it
         * went, found before the read or when the read finds the batch gone.
         */
        _scadaReloadBatchForm: function () {
            const state = this.model.get(this.handle);
            if (!state || !state.res_id) {
                return;
            }
            const batchId = state.res_id;
            return this._scadaBatchHistory(batchId).then((historyId) => {
                if (historyId) {
                    return this._scadaOpenHistory(historyId);
                }
                return this.reload().catch((error) =>
                    this._scadaBatchHistory(batchId).then((historyIdAfter) => {
                        if (!historyIdAfter) {
                            throw error;
                        }
                        return this._scadaOpenHistory(historyIdAfter);
                    })
                );
            });
        },
        /** The history record of an archived batch, false while it is in the queue. */
        _scadaBatchHistory: function (batchId) {
            return this._rpc({
                model: "mo.history",
                method: "search",
                args: [[["queue_batch_id", "=", batchId]]],
                kwargs: {limit: 1},
            }).then((historyIds) => historyIds[0] || false);
        },
        _scadaOpenHistory: function (historyId) {
            return this.do_action({
                type: "ir.actions.act_window",
                res_model: "mo.history",
                res_id: historyId,
                views: [[false, "form"]],
                target: "current",
            });
        },
        _scadaRenderAlarms: function () {
            if (this.modelName !== "mo.batch" || this.viewType !== "kanban") {
                return;
            }
            return this._rpc({
                model: "scada.alarm",
                method: "board_summary",
                args: [],
            }).then((alarms) => {
                this.$(".o_scada_alarms").remove();
                if (!alarms.length) {
                    return;
                }
                const $banner = $("<div>", {class: "o_scada_alarms alert alert-danger mb-0"});
                // Past three rows the banner folds, so the board stays in view.
                const shown = this._scadaAlarmsUnfolded ? alarms.length : 3;
                for (const alarm of alarms.slice(0, shown)) {
                    const $row = $("<div>", {class: "o_scada_alarm d-flex align-items-center"});
                    const kind = alarm.kind || "";
                    $row.append($("<small>", {class: "mr-2 text-nowrap o_scada_alarm_when"}).text(alarm.when));
                    $row.append($("<strong>", {class: "mr-2"}).text(alarm.plc));
                    $row.append($("<span>", {class: "badge badge-danger mr-2"}).text(kind));
                    if (alarm.production_id) {
                        const $mo = $("<a>", {href: "#", class: "mr-2 o_scada_alarm_mo"}).text(alarm.mo);
                        $mo.on("click", (ev) => {
                            ev.preventDefault();
                            this.do_action({
                                type: "ir.actions.act_window",
                                res_model: "mrp.production",
                                res_id: alarm.production_id,
                                views: [[false, "form"]],
                                target: "current",
                            });
                        });
                        $row.append($mo);
                    } else {
                        $row.append($("<span>", {class: "mr-2"}).text(alarm.mo || ""));
                    }
                    $row.append($("<span>", {class: "o_scada_alarm_reason flex-grow-1"}).text(alarm.reason));
                    if (alarm.count > 1) {
                        $row.append($("<span>", {class: "badge badge-pill badge-secondary mr-2"}).text("x" + alarm.count));
                    }
                    const $ack = $("<button>", {class: "btn btn-sm btn-secondary o_scada_acknowledge"}).text(
                        _t("Acknowledge")
                    );
                    $ack.on("click", () => {
                        this._rpc({model: "scada.alarm", method: "action_acknowledge", args: [[alarm.id]]}).then(() => {
                            core.bus.trigger(MENU_COUNTS_EVENT);
                            return this._scadaRenderAlarms();
                        });
                    });
                    $row.append($ack);
                    $banner.append($row);
                }
                const $footer = $("<div>", {class: "d-flex justify-content-end mt-1"});
                if (alarms.length > 3) {
                    const $fold = $("<button>", {class: "btn btn-sm btn-link o_scada_alarms_fold"}).text(
                        this._scadaAlarmsUnfolded
                            ? _t("Show fewer")
                            : _.str.sprintf(_t("%s more"), alarms.length - shown)
                    );
                    $fold.on("click", () => {
                        this._scadaAlarmsUnfolded = !this._scadaAlarmsUnfolded;
                        this._scadaRenderAlarms();
                    });
                    $footer.append($fold);
                }
                const $all = $("<button>", {class: "btn btn-sm btn-secondary o_scada_acknowledge_all"}).text(
                    _t("Acknowledge all")
                );
                $all.on("click", () => {
                    this._rpc({model: "scada.alarm", method: "action_acknowledge_all", args: []}).then(() => {
                        core.bus.trigger(MENU_COUNTS_EVENT);
                        return this._scadaRenderAlarms();
                    });
                });
                $footer.append($all);
                $banner.append($footer);
                this.$(".o_content").prepend($banner);
            });
        },
    };

    KanbanController.include(LiveMixin);
    ListController.include(LiveMixin);
    FormController.include(LiveMixin);

    /**
     * Live menu counts: the SCADA menus that show a count ("Alarms (3)", as
     * ir.ui.menu's load_menus names them) re-read them in one small RPC when
     * the runtime says on the bus that a batch or a PLC changed, or a view
     * of the board reloaded, at most once every few seconds, and rewrite
     * their labels in the app's menu bar (shown or kept for another app).
     */
    const ScadaMenuCounts = {
        start: function () {
            const started = this._super.apply(this, arguments);
            if (this._scadaHasMenus(this.menu_data)) {
                this._scadaRefreshCounts = _.throttle(this._scadaRefreshCountsNow.bind(this), MENU_COUNTS_EVERY_MS);
                this.call("bus_service", "addChannel", CHANNEL);
                this.call("bus_service", "startPolling");
                this.call("bus_service", "onNotification", this, this._onScadaMenuNotification);
                core.bus.on(MENU_COUNTS_EVENT, this, this._scadaRefreshCounts);
            }
            return started;
        },
        destroy: function () {
            if (this._scadaRefreshCounts) {
                core.bus.off(MENU_COUNTS_EVENT, this, this._scadaRefreshCounts);
            }
            this._super.apply(this, arguments);
        },
        /** Only users who see a SCADA menu listen: the others have no count to show. */
        _scadaHasMenus: function (menu) {
            if (!menu) {
                return false;
            }
            if ((menu.xmlid || "").startsWith("scada_plc_bridge.")) {
                return true;
            }
            return (menu.children || []).some((child) => this._scadaHasMenus(child));
        },
        _onScadaMenuNotification: function (notifications) {
            const changed = notifications.some(
                ([channel, message]) => channel === CHANNEL && message && message.type === "scada_board"
            );
            if (changed) {
                this._scadaRefreshCounts();
            }
        },
        _scadaRefreshCountsNow: function () {
            if (this.isDestroyed()) {
                return;
            }
            return this._rpc({model: "ir.ui.menu", method: "scada_menu_counts", args: []})
                .then((counts) => this._scadaShowCounts(counts))
                .guardedCatch(() => {});
        },
        /**
         * Rewrite the labels: the name load_menus gave without its count
         * (kept on the element the first time), then the count if any.
         */
        _scadaShowCounts: function (counts) {
            if (this.isDestroyed()) {
                return;
            }
            const $sections = _.values(this.$menu_sections).concat([this.$el]);
            for (const [menuId, count] of Object.entries(counts || {})) {
                const selector = 'a[data-menu="' + Number(menuId) + '"] > span';
                const labels = new Set();
                for (const $section of $sections) {
                    $section.find(selector).each((_index, span) => labels.add(span));
                }
                for (const span of labels) {
                    const $span = $(span);
                    let name = $span.attr("data-scada-name");
                    if (name === undefined) {
                        name = $span.text().replace(/ \(\d+\)$/, "");
                        $span.attr("data-scada-name", name);
                    }
                    $span.text(count ? _.str.sprintf("%s (%s)", name, count) : name);
                }
                this._scadaRenameMenu(this.menu_data, Number(menuId), count);
            }
            core.bus.trigger("resize"); // the "more" menu folds by the labels' width
        },
        _scadaRenameMenu: function (menu, menuId, count) {
            if (!menu) {
                return;
            }
            if (menu.id === menuId) {
                if (menu.scadaName === undefined) {
                    menu.scadaName = menu.name.replace(/ \(\d+\)$/, "");
                }
                menu.name = count ? _.str.sprintf("%s (%s)", menu.scadaName, count) : menu.scadaName;
                return;
            }
            for (const child of menu.children || []) {
                this._scadaRenameMenu(child, menuId, count);
            }
        },
    };
    Menu.include(ScadaMenuCounts);

    return LiveMixin;
});
