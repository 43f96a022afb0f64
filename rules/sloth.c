#include "sloth.h"

#include <string.h>

static const char *const sloth_top_keys[] = {"version", "service", "labels", "slos", NULL};
static const char *const sloth_slo_keys[] = {"name", "objective", "description", "labels",
                                             "sli",  "alerting",  NULL};
static const char *const sloth_sli_keys[] = {"events", "raw", "plugin", NULL};
static const char *const sloth_events_keys[] = {"error_query", "total_query", NULL};
static const char *const sloth_raw_keys[] = {"error_ratio_query", NULL};
static const char *const sloth_alerting_keys[] = {"name",       "labels",       "annotations",
                                                  "page_alert", "ticket_alert", NULL};
static const char *const sloth_tier_keys[] = {"disable", "labels", "annotations", NULL};

static void sloth_sli(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    if (ydoc_map(d, n, "sli", sloth_sli_keys) != 0)
        return;
    yaml_node_t *ev = ydoc_get(d, n, "events");
    yaml_node_t *raw = ydoc_get(d, n, "raw");
    yaml_node_t *plugin = ydoc_get(d, n, "plugin");
    if (plugin != NULL) {
        ydoc_error(d, ydoc_get_key(d, n, "plugin"),
                   "Sloth SLI plugins are not supported: write the SLI as "
                   "sli.events (error_query, total_query) or sli.raw");
        return;
    }
    if ((ev == NULL) == (raw == NULL)) {
        ydoc_error(d, n, "sli needs exactly one of events and raw");
        return;
    }
    if (ev != NULL) {
        o->sli.kind = RULES_SLI_EVENTS;
        if (ydoc_map(d, ev, "sli.events", sloth_events_keys) != 0)
            return;
        yaml_node_t *q = ydoc_need(d, ev, "error_query", "sli.events");
        if (q != NULL)
            (void)build_query(d, q, "error_query", true, &o->sli.bad_query);
        q = ydoc_need(d, ev, "total_query", "sli.events");
        if (q != NULL)
            (void)build_query(d, q, "total_query", true, &o->sli.total_query);
    } else {
        o->sli.kind = RULES_SLI_RAW;
        if (ydoc_map(d, raw, "sli.raw", sloth_raw_keys) != 0)
            return;
        yaml_node_t *q = ydoc_need(d, raw, "error_ratio_query", "sli.raw");
        if (q != NULL)
            (void)build_query(d, q, "error_ratio_query", true, &o->sli.error_ratio_query);
    }
}

static void sloth_tier(struct ydoc *d, yaml_node_t *n, const char *what, struct rules_alert_tier *t)
{
    if (ydoc_map(d, n, what, sloth_tier_keys) != 0)
        return;
    yaml_node_t *dis = ydoc_get(d, n, "disable");
    bool disable = false;
    if (dis != NULL)
        (void)ydoc_bool(d, dis, "disable", &disable);
    t->enabled = !disable;
    (void)build_labels(d, ydoc_get(d, n, "labels"), "alert labels", true, &t->labels);
    (void)build_labels(d, ydoc_get(d, n, "annotations"), "annotations", false, &t->annotations);
}

static void sloth_alerting(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    if (ydoc_map(d, n, "alerting", sloth_alerting_keys) != 0)
        return;
    struct rules_alerting *a = &o->alerting;
    yaml_node_t *v;
    if ((v = ydoc_get(d, n, "name")) != NULL)
        (void)build_name(d, v, "alerting.name", &a->name);
    (void)build_labels(d, ydoc_get(d, n, "labels"), "alerting.labels", true, &a->labels);
    (void)build_labels(d, ydoc_get(d, n, "annotations"), "alerting.annotations", false,
                       &a->annotations);
    if ((v = ydoc_get(d, n, "page_alert")) != NULL)
        sloth_tier(d, v, "page_alert", &a->page);
    if ((v = ydoc_get(d, n, "ticket_alert")) != NULL)
        sloth_tier(d, v, "ticket_alert", &a->ticket);
}

void sloth_read(struct build *b, struct ydoc *d, yaml_node_t *root)
{
    if (ydoc_map(d, root, "a Sloth prometheus/v1 file", sloth_top_keys) != 0)
        return;
    yaml_node_t *sn = ydoc_need(d, root, "service", "Sloth file");
    const char *name = NULL;
    if (sn != NULL)
        (void)build_name(d, sn, "service", &name);
    struct rules_labels labels;
    (void)build_labels(d, ydoc_get(d, root, "labels"), "labels", true, &labels);
    struct rules_service *svc = NULL;
    struct build_service_def def = {name, labels, 90, 80, sn, ydoc_get(d, root, "labels"), NULL};
    if (name != NULL)
        svc = build_service(b, d, &def);
    yaml_node_t *slos = ydoc_need(d, root, "slos", "Sloth file");
    if (slos == NULL)
        return;
    int len = ydoc_seq_len(d, slos, "slos");
    for (int i = 0; i < len; i++) {
        yaml_node_t *n = ydoc_item(d, slos, i);
        if (ydoc_map(d, n, "an SLO", sloth_slo_keys) != 0)
            continue;
        yaml_node_t *nn = ydoc_need(d, n, "name", "SLO");
        const char *slo_name = NULL;
        if (nn != NULL)
            (void)build_name(d, nn, "SLO name", &slo_name);
        struct rules_slo *o = NULL;
        if (svc != NULL && slo_name != NULL)
            o = build_slo(b, d, n, nn, svc, slo_name, RULES_FORMAT_SLOTH);
        if (o == NULL)
            continue;
        yaml_node_t *v;
        if ((v = ydoc_need(d, n, "objective", "SLO")) != NULL &&
            build_percent(d, v, "objective", &o->objective) == 0)
            o->warning = o->minimum = o->objective;
        if ((v = ydoc_get(d, n, "description")) != NULL)
            (void)ydoc_str(d, v, "description", &o->description);
        yaml_node_t *labels_n = ydoc_get(d, n, "labels");
        (void)build_labels(d, labels_n, "SLO labels", true, &o->labels);
        build_check_label_clash(d, labels_n, svc, o);
        if ((v = ydoc_need(d, n, "sli", "SLO")) != NULL)
            sloth_sli(d, v, o);
        if ((v = ydoc_get(d, n, "alerting")) != NULL)
            sloth_alerting(d, v, o);
    }
}
