/*
 * Remote scans (SPEC §7 finding 4): a scan whose device was more than --remote-km from the
 * venue it scanned, as forwarded photos of a venue code are.  The distances are measured
 * in the conformance pass (venues.csv gives the venue's position); this turns them into
 * findings.
 */
#include "detect_int.h"

void vs_remote_findings(struct vs_findings *f)
{
	for (size_t i = 0; i < f->nremotes; i++) {
		const struct remote_rec *r = &f->remotes[i];
		struct vs_finding *x = vs_findings_add(f, VS_FIND_REMOTE_SCAN);

		x->ts = r->ts;
		x->offset_min = r->offset_min;
		x->person_id = vs_person_id(f, r->person);
		x->u.remote.venue_id = vs_text(&f->venue_ids, r->venue);
		x->u.remote.device_area = vs_text(&f->areas, r->area);
		x->u.remote.venue_area = vs_text(&f->areas, f->venues[r->venue].area);
		x->u.remote.venue_name = vs_text(&f->texts, f->venues[r->venue].name);
		x->u.remote.lat = r->lat;
		x->u.remote.lon = r->lon;
		x->u.remote.distance_km = r->km;
	}
}
