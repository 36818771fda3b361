/*
 * Rule conformance (SPEC §6, §7 findings 1 and 4): every event of one person, in time
 * order, is turned into the rule engine's facts; every change to red or yellow is asked
 * whether some published rule explains it, and whether the reason shown claims a rule the
 * facts do not support.  The same pass keeps what the other findings need and nothing
 * more: where the person was (the latest area, and per area a count and a 64-day bitmap
 * of days seen), the code changes, scans far from their venue, and actions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/mem.h"
#include "venuescan/venues.h"
#include "detect_int.h"

static int64_t floor_day(int64_t ts)
{
	return ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
}

static void visit(struct person *p, uint32_t area, int64_t ts)
{
	int32_t day = (int32_t)floor_day(ts);
	struct area_visit *v = NULL;

	for (uint32_t i = 0; i < p->nvisits; i++)
		if (p->visits[i].area == area) {
			v = &p->visits[i];
			break;
		}
	if (!v) {
		size_t a = p->avisits;
		if (p->nvisits + 1 > a) {
			a = a ? a * 2 : 2;
			p->visits = vs_xreallocarray(p->visits, a, sizeof(*p->visits));
			p->avisits = (uint32_t)a;
		}
		v = &p->visits[p->nvisits++];
		memset(v, 0, sizeof(*v));
		v->area = area;
		v->day = day;
	}
	v->count++;
	if (day > v->day) {
		int64_t shift = (int64_t)day - v->day;
		v->days = shift >= 64 ? 0 : v->days << shift;
		v->day = day;
	}
	if (v->day - day < 64)
		v->days |= UINT64_C(1) << (v->day - day);
}

static void presence(struct vs_findings *f, struct person *p, int64_t *state, uint32_t area,
		     int64_t ts)
{
	enum vs_risk_level level = VS_RISK_LOW;

	if (area == VS_NONE)
		return;
	p->cur_area = area;
	visit(p, area, ts);
	if (area >= f->aarea_has_risk) {
		size_t old = f->aarea_has_risk;
		VS_ALLOC_GROW(f->area_has_risk, area + 1, f->aarea_has_risk);
		memset(f->area_has_risk + old, 0, f->aarea_has_risk - old);
	}
	if (!f->area_has_risk[area])
		f->area_has_risk[area] = vs_risk_map_changed(f->risk, vs_text(&f->areas, area),
							     INT64_MIN, INT64_MAX) ? 2 : 1;
	if (f->area_has_risk[area] == 2)
		level = vs_risk_map_level(f->risk, vs_text(&f->areas, area), ts);
	vs_rules_observe(f->rules, state, VS_FACT_PRESENCE, vs_risk_level_name(level), ts);
}

static void code_change(struct vs_findings *f, struct person *p, int64_t *state,
			const struct event *e)
{
	struct code_rec *c;
	enum vs_color color = (enum vs_color)e->value, prev;
	uint16_t *auth;
	uint32_t ai;
	int added;

	/* each authority (a province's code, a city's) keeps its own colour for the person */
	ai = vs_u64map_add(&f->auth_map, (uint64_t)e->person << 32 | e->authority, &added);
	if (ai >= f->aauth_state)
		VS_ALLOC_GROW(f->auth_state, ai + 1, f->aauth_state);
	auth = &f->auth_state[ai];
	if (added)
		*auth = VS_GREEN;
	prev = (enum vs_color)(*auth & 0xff);

	VS_ALLOC_GROW(f->codes, f->ncodes + 1, f->acodes);
	c = &f->codes[f->ncodes++];
	memset(c, 0, sizeof(*c));
	c->ts = e->ts;
	c->person = e->person;
	c->reason = e->reason;
	c->authority = e->authority;
	c->offset_min = e->offset_min;
	c->color = (uint8_t)color;
	c->prev_color = (uint8_t)prev;
	c->prev_action = VS_NONE;
	c->rules_green = vs_rules_color_at(f->rules, state, e->ts, NULL) == VS_GREEN;
	c->is_change = color != prev;
	if (color != VS_GREEN && c->is_change) {
		c->unexplained = vs_rules_explain(f->rules, state, e->ts, color) < 0;
		if (e->reason != VS_NONE) {
			const char *reason = vs_text(&f->texts, e->reason);
			c->claimed = vs_rules_reason_claims(f->rules, reason);
			for (size_t i = 0; i < f->nrules; i++) {
				int64_t last = state[i];
				if (!(c->claimed >> i & 1))
					continue;
				if (last == VS_NEVER || last > e->ts ||
				    last <= e->ts - vs_rules_window(f->rules, i))
					c->unsupported |= UINT64_C(1) << i;
			}
		}
		if (c->unexplained && !p->outcome) {
			p->outcome = 1;
			p->outcome_area = p->cur_area;
		}
	}
	if (color != VS_GREEN && c->is_change)
		*auth = (uint16_t)(color | (c->unexplained ? AUTH_UNEXPLAINED : 0));
	else if (color == VS_GREEN && c->is_change)
		c->undoes = (*auth & AUTH_UNEXPLAINED) != 0;
	if (color == VS_GREEN)
		*auth = VS_GREEN;
	if (p->last_action != VS_NONE && c->is_change &&
	    e->ts - p->last_action_ts <= ACTION_WINDOW_S) {
		c->prev_action = p->last_action;
		c->action_delay = (int32_t)(e->ts - p->last_action_ts);
	}
	p->color = (uint8_t)color;
}

void vs_conformance_event(struct vs_findings *f, const struct event *e)
{
	struct person *p = &f->persons[e->person];
	int64_t *state = f->rule_state + (size_t)e->person * f->nrules;

	p->seen = 1;
	p->last_ts = e->ts;
	p->last_was_code = e->kind == EV_CODE;
	switch ((enum ev_kind)e->kind) {
	case EV_LOCATE:
		presence(f, p, state, e->area, e->ts);
		break;
	case EV_SCAN:
		presence(f, p, state, e->area, e->ts);
		if (e->venue != VS_NONE && e->venue < f->avenues && f->venues[e->venue].known &&
		    !isnan(e->lat) && !isnan(e->lon) && !isnan(f->venues[e->venue].lat) &&
		    !isnan(f->venues[e->venue].lon)) {
			const struct venue_rec *v = &f->venues[e->venue];
			double km = vs_distance_km(e->lat, e->lon, v->lat, v->lon);
			if (km > f->opt.remote_km) {
				struct remote_rec *r;
				VS_ALLOC_GROW(f->remotes, f->nremotes + 1, f->aremotes);
				r = &f->remotes[f->nremotes++];
				r->ts = e->ts;
				r->lat = e->lat;
				r->lon = e->lon;
				r->km = km;
				r->person = e->person;
				r->venue = e->venue;
				r->area = e->area;
				r->offset_min = e->offset_min;
			}
		}
		break;
	case EV_TEST:
		vs_rules_observe(f->rules, state, VS_FACT_TEST, e->value ? "positive" : "negative",
				 e->ts);
		break;
	case EV_CONTACT:
		vs_rules_observe(f->rules, state, VS_FACT_CONTACT, NULL, e->ts);
		break;
	case EV_ENTRY:
		vs_rules_observe(f->rules, state, VS_FACT_ENTRY, NULL, e->ts);
		break;
	case EV_ACTION:
		vs_rules_observe(f->rules, state, VS_FACT_ACTION, vs_text(&f->tokens, e->value),
				 e->ts);
		p->last_action = e->value;
		p->last_action_ts = e->ts;
		VS_ALLOC_GROW(f->actions, f->nactions + 1, f->aactions);
		f->actions[f->nactions].ts = e->ts;
		f->actions[f->nactions].person = e->person;
		f->actions[f->nactions].token = e->value;
		f->nactions++;
		break;
	case EV_CODE:
		code_change(f, p, state, e);
		break;
	}
}

/* Unexplained changes and reason mismatches, once the flagged values are known. */
void vs_conformance_findings(struct vs_findings *f)
{
	struct vs_detect_summary *s = &f->summary;
	const char *checked[3] = { "", "", "" };

	for (int col = VS_YELLOW; col <= VS_RED; col++) {
		uint64_t mask = 0;
		for (size_t i = 0; i < f->nrules; i++)
			if (vs_rules_color(f->rules, i) == (enum vs_color)col)
				mask |= UINT64_C(1) << i;
		checked[col] = vs_rule_mask_names(f, mask);
	}
	for (size_t i = 0; i < f->ncodes; i++) {
		const struct code_rec *c = &f->codes[i];
		const char *pid = vs_person_id(f, c->person);
		struct vs_finding *x;

		s->code_events++;
		if (c->color == VS_GREEN || !c->is_change)
			continue;
		s->changes_red_yellow++;
		if (c->unexplained) {
			x = vs_findings_add(f, VS_FIND_UNEXPLAINED_CODE);
			x->ts = c->ts;
			x->offset_min = c->offset_min;
			x->person_id = pid;
			x->u.code.color = (enum vs_color)c->color;
			x->u.code.reason = vs_text(&f->texts, c->reason);
			x->u.code.authority = vs_text(&f->texts, c->authority);
			x->u.code.checked = checked[c->color];
			x->u.code.flagged = vs_person_has_flagged(f, c->person);
			s->unexplained++;
		}
		if (c->unsupported) {
			x = vs_findings_add(f, VS_FIND_REASON_MISMATCH);
			x->ts = c->ts;
			x->offset_min = c->offset_min;
			x->person_id = pid;
			x->u.mismatch.color = (enum vs_color)c->color;
			x->u.mismatch.reason = vs_text(&f->texts, c->reason);
			x->u.mismatch.authority = vs_text(&f->texts, c->authority);
			x->u.mismatch.claimed = vs_rule_mask_names(f, c->claimed);
			x->u.mismatch.unsupported = vs_rule_mask_names(f, c->unsupported);
		}
	}
	for (size_t i = 0; i < f->npersons; i++)
		s->unexplained_persons += f->persons[i].outcome;
}
