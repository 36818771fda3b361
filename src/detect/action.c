/*
 * Action-triggered changes (SPEC §7 finding 6): code changes that come within
 * ACTION_WINDOW_S after a non-health action (petition, booked_return_ticket, ...) of the
 * same person.  For each action token and colour, the count of such changes is compared
 * with what chance gives: each action of a person who changed to that colour k times over
 * the dataset's span T would be followed within the window by one of them with rate
 * k * window / T.  A (token, colour) is reported when at least 5 changes followed and the
 * Poisson upper tail at that expectation is below alpha / (tokens x 3).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/mem.h"
#include "detect_int.h"

#define MIN_COUNT 5

int vs_action_run(struct vs_findings *f)
{
	size_t nt = f->tokens.n;
	uint32_t *per = vs_xcalloc(f->npersons * 3 + 1, sizeof(*per));
	uint64_t *count = vs_xcalloc(nt * 3 + 1, sizeof(*count));
	uint64_t *nact = vs_xcalloc(nt + 1, sizeof(*nact));
	double *expected = vs_xcalloc(nt * 3 + 1, sizeof(*expected));
	double *delays = NULL;
	double span = (double)(f->ts_max - f->ts_min);
	int rc = 0;

	if (nt == 0 || f->nactions == 0)
		goto out;
	if (span < ACTION_WINDOW_S)
		span = ACTION_WINDOW_S;
	for (size_t i = 0; i < f->ncodes; i++) {
		const struct code_rec *c = &f->codes[i];
		if (c->color == c->prev_color)
			continue;
		per[(size_t)c->person * 3 + c->color]++;
		if (c->prev_action != VS_NONE)
			count[(size_t)c->prev_action * 3 + c->color]++;
	}
	for (size_t i = 0; i < f->nactions; i++) {
		const struct action_rec *a = &f->actions[i];
		nact[a->token]++;
		for (int col = 0; col < 3; col++)
			expected[(size_t)a->token * 3 + col] +=
				per[(size_t)a->person * 3 + col] * (double)ACTION_WINDOW_S / span;
	}
	delays = vs_xcalloc(f->ncodes + 1, sizeof(*delays));
	for (size_t t = 0; t < nt; t++)
		for (int col = 0; col < 3; col++) {
			size_t k = t * 3 + (size_t)col, nd = 0;
			double p, median, mad;
			struct vs_finding *x;
			if (count[k] < MIN_COUNT)
				continue;
			if ((rc = vs_poisson_upper_p(count[k], expected[k], &p)) != 0)
				goto out;
			if (!(p <= f->opt.alpha / (double)(nt * 3)))
				continue;
			for (size_t i = 0; i < f->ncodes; i++) {
				const struct code_rec *c = &f->codes[i];
				if (c->prev_action == t && c->color == col && c->is_change)
					delays[nd++] = c->action_delay;
			}
			if ((rc = vs_median_mad(delays, nd, NULL, &median, &mad)) != 0)
				goto out;
			x = vs_findings_add(f, VS_FIND_ACTION_TRIGGERED);
			x->person_id = "";
			x->u.action.action = vs_text(&f->tokens, (uint32_t)t);
			x->u.action.color = (enum vs_color)col;
			x->u.action.count = count[k];
			x->u.action.actions = nact[t];
			x->u.action.median_delay_s = median;
			x->u.action.expected = expected[k];
			x->u.action.p_value = p;
		}
out:
	free(per);
	free(count);
	free(nact);
	free(expected);
	free(delays);
	return rc;
}
