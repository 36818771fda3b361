/*
 * `venuescan eval DIR`: run the detector on a simulated dataset and score it against the
 * dataset's ground truth, DIR/labels.csv (detect.h: vs_eval_score).  This file parses
 * flags and prints the scores as text or one JSON object.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "venuescan/detect.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/rules.h"
#include "venuescan/serve.h"
#include "venuescan/stats.h"
#include "cli.h"

const char cmd_eval_help[] =
	"usage: venuescan eval DIR [--format text|json] [--rules FILE] [--alpha A]\n"
	"                     [--remote-km KM]\n"
	"\n"
	"Run detect on the dataset in folder DIR and score it against DIR/labels.csv, the\n"
	"simulator's ground truth: precision and recall of the changes to red or yellow it\n"
	"found unexplained (a true positive is one labelled misuse:*), a confusion table,\n"
	"and the attribute values it flagged against those the misuse rules used (inferred\n"
	"from which persons each misuse rule labelled; see docs/DETECTOR.md).\n"
	"\n"
	"options:\n"
	"  --format F      text (default) or json (one object)\n"
	"  --rules FILE    the published rules, as for detect\n"
	"  --alpha A       significance level, as for detect (default 0.01)\n"
	"  --remote-km KM  remote-scan distance, as for detect (default 5)\n"
	"\n"
	"exit status: 0 scored; 2 usage or input error (a bad or missing labels.csv too).\n";

static void num(struct vs_buf *b, double x)
{
	vs_stats_add_json_number(b, x, !isnan(x));
}

static void print_json(const struct vs_eval *e)
{
	struct vs_buf b = VS_BUF_INIT;

	vs_buf_addf(&b, "{\"changes\":%" PRIu64 ",\"tp\":%" PRIu64 ",\"fp\":%" PRIu64
		    ",\"fn\":%" PRIu64 ",\"tn\":%" PRIu64 ",\"precision\":", e->changes, e->tp,
		    e->fp, e->fn, e->tn);
	num(&b, e->precision);
	vs_buf_adds(&b, ",\"recall\":");
	num(&b, e->recall);
	vs_buf_addf(&b, ",\"unlabelled\":%" PRIu64 ",\"labels\":%" PRIu64 ",\"misuse_labels\":%"
		    PRIu64 ",\"misuse_not_scored\":%" PRIu64 ",\"misuse_rules\":[", e->unlabelled,
		    e->labels, e->misuse_labels, e->misuse_not_scored);
	for (size_t i = 0; i < e->nrules; i++) {
		vs_buf_adds(&b, i ? ",{\"rule\":" : "{\"rule\":");
		vs_buf_add_json_string(&b, e->rules[i].name, strlen(e->rules[i].name));
		vs_buf_addf(&b, ",\"persons\":%" PRIu64 ",\"value\":", e->rules[i].persons);
		vs_buf_add_json_string(&b, e->rules[i].value, strlen(e->rules[i].value));
		vs_buf_addc(&b, '}');
	}
	vs_buf_addf(&b, "],\"attributes\":{\"tp\":%" PRIu64 ",\"fp\":%" PRIu64 ",\"fn\":%" PRIu64
		    ",\"values\":[", e->attr_tp, e->attr_fp, e->attr_fn);
	for (size_t i = 0; i < e->nvalues; i++) {
		const struct vs_eval_value *v = &e->values[i];
		vs_buf_adds(&b, i ? ",{\"value\":" : "{\"value\":");
		vs_buf_add_json_string(&b, v->value, strlen(v->value));
		vs_buf_addf(&b, ",\"flagged\":%s,\"expected\":%s,\"holders\":%" PRIu64
			    ",\"misuse_holders\":%" PRIu64 "}", v->flagged ? "true" : "false",
			    v->expected ? "true" : "false", v->holders, v->misuse_holders);
	}
	vs_buf_adds(&b, "]}}\n");
	fwrite(b.data, 1, b.len, stdout);
	vs_buf_release(&b);
}

static void print_text(const struct vs_eval *e, const char *dir)
{
	printf("venuescan eval: %s\n\n", dir);
	printf("changes to red or yellow: %" PRIu64 " (%" PRIu64 " without a label row)\n",
	       e->changes, e->unlabelled);
	printf("                      label misuse   label published\n");
	printf("  unexplained     %14" PRIu64 " %17" PRIu64 "\n", e->tp, e->fp);
	printf("  explained       %14" PRIu64 " %17" PRIu64 "\n", e->fn, e->tn);
	printf("precision %.4f  recall %.4f\n", e->precision, e->recall);
	printf("(%" PRIu64 " misuse labels are on settings that are not changes to red or yellow:\n"
	       " a colour set again, or a change to green; they are not scored)\n",
	       e->misuse_not_scored);
	printf("\nmisuse rules and the attribute value each used:\n");
	for (size_t i = 0; i < e->nrules; i++)
		printf("  misuse:%s  %" PRIu64 " persons  %s\n", e->rules[i].name,
		       e->rules[i].persons,
		       *e->rules[i].value ? e->rules[i].value
		       : e->rules[i].persons ? "(no value held by 95% of them)"
		       : "(labels no change to red or yellow)");
	printf("\nattribute values: %" PRIu64 " flagged and used, %" PRIu64 " flagged but not "
	       "used, %" PRIu64 " used but not flagged\n", e->attr_tp, e->attr_fp, e->attr_fn);
	for (size_t i = 0; i < e->nvalues; i++) {
		const struct vs_eval_value *v = &e->values[i];
		if (!v->flagged && !v->expected)
			continue;
		printf("  %-40s %s %s\n", v->value, v->flagged ? "flagged" : "missed ",
		       v->expected ? "(used by a misuse rule)" : "(NOT used by any misuse rule)");
	}
}

int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "rules", required_argument, NULL, 'r' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "remote-km", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_detect_options opt = { NULL, NULL, VS_DETECT_ALPHA_DEFAULT,
					 VS_DETECT_REMOTE_KM_DEFAULT };
	const char *rules_path = NULL;
	struct vs_rule_set *rules = NULL;
	struct vs_findings *f = NULL;
	struct vs_eval e;
	int c, json = 0, have_eval = 0, status = VS_EXIT_ERROR;

	while ((c = vs_cli_getopt("eval", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "json"))
				json = 1;
			else if (strcmp(optarg, "text")) {
				vs_cli_usage("eval", "option '--format': unknown format "
					     "'%s' (text or json)", optarg);
				goto out;
			}
			break;
		case 'r':
			rules_path = optarg;
			break;
		case 'a':
			if (vs_cli_double("eval", "--alpha", optarg, 1e-300, 0.5, &opt.alpha) != 0)
				goto out;
			break;
		case 'k':
			if (vs_cli_double("eval", "--remote-km", optarg, 0.001, 20040,
					  &opt.remote_km) != 0)
				goto out;
			break;
		default:
			goto out;
		}
	}
	if (optind >= argc) {
		vs_cli_usage("eval", "no dataset folder given");
		goto out;
	}
	if (optind + 1 < argc) {
		vs_cli_usage("eval", "one dataset folder only ('%s' is extra)", argv[optind + 1]);
		goto out;
	}
	if ((rules_path ? vs_rules_load(rules_path, &rules)
			: vs_serve_default_rules(&rules)) != 0) {
		status = vs_cli_fail();
		goto out;
	}
	opt.rules = rules;
	opt.rules_name = rules_path ? rules_path : "henan-2021 (built in)";
	if (vs_detect_run(argv[optind], &opt, &f) != 0 || vs_eval_score(argv[optind], f, &e) != 0) {
		status = vs_cli_fail();
		goto out;
	}
	have_eval = 1;
	if (json)
		print_json(&e);
	else
		print_text(&e, argv[optind]);
	status = VS_EXIT_OK;
out:
	if (have_eval)
		vs_eval_release(&e);
	vs_findings_free(f);
	vs_rules_free(rules);
	return status;
}
